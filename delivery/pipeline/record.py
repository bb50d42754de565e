"""Record: each message's outcome into the ledger, batched, journaled meanwhile.

Writing each outcome to the database the moment the server answers costs a
commit (and a WAL flush) per message, which caps a worker at a few hundred
messages per second. So a chunk keeps its outcomes in memory and writes them
with one UPDATE per batch (``LedgerWriter.flush``, every ``FLUSH_EVERY``
messages or ``FLUSH_SECONDS``), and meanwhile journals each outcome in Redis,
in the same round trip that asks the gate about the next message
(``delivery.pipeline.gate``), which also keeps the set of the claim's
messages in flight.

If the worker dies, ``recover_claim`` replays that journal onto the ledger
before the claim's unsent rows go back to ``pending``. Only messages that were
in flight at the moment of death (on a connection, or answered but not yet
journaled) can be sent twice: at most one per connection the chunk held.

``Recorder`` turns a server's answer into the row's next state (sent, retried
later with backoff, failed) and feeds the campaign's circuit breaker.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from bounces.services import SmtpFailure, record_smtp_failures
from campaigns.models import Campaign
from delivery.models import Delivery, DomainOutcome
from delivery.pipeline import breaker
from delivery.pipeline.gate import inflight_key, journal_key
from delivery.pipeline.types import Outcome, SendResult
from postino.redis import redis_client
from subscribers.models import Subscriber

log = logging.getLogger(__name__)

FLUSH_EVERY = 200
FLUSH_SECONDS = 1.0


@dataclass(slots=True)
class RowOutcome:
    delivery_id: int
    status: str
    attempts: int
    code: int | None = None
    reply: str = ""
    message_id: str = ""
    sent_at: datetime | None = None
    next_attempt_at: datetime | None = None
    server_id: int | None = None
    provider_message_id: str = ""

    def to_json(self) -> str:
        # Built by hand: dataclasses.asdict deep-copies every field, which
        # cost more than the JSON itself on the per-message path.
        data = {name: getattr(self, name) for name in self.__slots__}
        for key in ("sent_at", "next_attempt_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> RowOutcome:
        data = json.loads(raw)
        for key in ("sent_at", "next_attempt_at"):
            if data[key]:
                data[key] = datetime.fromisoformat(data[key])
        return cls(**data)


_UPDATE_SQL = f"""
    UPDATE {Delivery._meta.db_table}
    SET status = %s, attempts = %s, smtp_code = %s, smtp_reply = %s, message_id = %s,
        provider_message_id = %s, sent_at = %s, next_attempt_at = %s, smtp_server_id = %s,
        claim_token = NULL, lease_until = NULL, updated_at = %s
    WHERE id = %s AND claim_token = %s AND status = %s
    RETURNING campaign_id, subscriber_id, status
"""  # noqa: S608 - the table name comes from model metadata; values are parameters

# The final outcomes a batch wrote, added to its campaign's tally by domain
# (``DomainOutcome``). In domain order, so two workers adding to the same
# domains take their row locks in the same order and never deadlock.
_TALLY = f"""
    INSERT INTO {DomainOutcome._meta.db_table} AS t (campaign_id, domain, sent, failed)
    SELECT done.campaign_id, {{domain}},
           SUM(CASE WHEN done.status = 'sent' THEN 1 ELSE 0 END),
           SUM(CASE WHEN done.status = 'failed' THEN 1 ELSE 0 END)
    FROM {{done}} AS done JOIN {Subscriber._meta.db_table} AS s ON s.id = done.subscriber_id
    WHERE done.status IN ('sent', 'failed')
    GROUP BY 1, 2 ORDER BY 1, 2
    ON CONFLICT (campaign_id, domain)
    DO UPDATE SET sent = t.sent + excluded.sent, failed = t.failed + excluded.failed
"""  # noqa: S608 - the table names come from model metadata

_PG_ROW = (
    "(%s::bigint, %s::varchar, %s::integer, %s::integer, %s::text, %s::varchar,"
    " %s::varchar, %s::timestamptz, %s::timestamptz, %s::bigint)"
)
# The ledger's rows and the domain tally in one statement: one round trip,
# and the tally counts exactly the rows this claim still held.
_PG_UPDATE_SQL = (
    f"""
    WITH done AS (
        UPDATE {Delivery._meta.db_table} AS d
        SET status = v.status, attempts = v.attempts, smtp_code = v.code, smtp_reply = v.reply,
            message_id = v.message_id, provider_message_id = v.provider_message_id,
            sent_at = v.sent_at, next_attempt_at = v.next_attempt_at,
            smtp_server_id = v.server_id, claim_token = NULL, lease_until = NULL, updated_at = %s
        FROM (VALUES {{rows}}) AS v(id, status, attempts, code, reply, message_id,
                                    provider_message_id, sent_at, next_attempt_at, server_id)
        WHERE d.id = v.id AND d.claim_token = %s AND d.status = %s
        RETURNING d.campaign_id, d.subscriber_id, d.status
    )
    """  # noqa: S608 - the table name comes from model metadata; values are parameters
    + _TALLY.format(domain="left(lower(split_part(s.email, '@', 2)), 255)", done="done")
)
_SQLITE_DONE = "delivery_batch_done"
_SQLITE_TALLY = _TALLY.format(
    domain="substr(lower(substr(s.email, instr(s.email, '@') + 1)), 1, 255)", done=_SQLITE_DONE
)


def apply_outcomes(claim: uuid.UUID, outcomes: list[RowOutcome]) -> None:
    """Write a batch at once; only rows still held by this claim change, and
    those that reached an end (sent, failed) are tallied by recipient domain.

    On PostgreSQL it is one statement: ``UPDATE … FROM (VALUES …)`` feeding
    the tally's upsert. On SQLite (local, no network) the rows are updated
    one by one in a transaction, then tallied. Either way a batch costs one
    commit rather than one per message. (Django's ``bulk_update`` would do it
    in one statement too, but compiling its CASE expressions for hundreds of
    rows costs more than the database work.)
    """
    if not outcomes:
        return
    # Raw SQL takes values in the database's own representation (SQLite keeps
    # UUIDs as hex and datetimes as text).
    when = connection.ops.adapt_datetimefield_value
    now = when(timezone.now())
    claim_value = Delivery._meta.get_field("claim_token").get_db_prep_value(claim, connection)
    claimed = Delivery.Status.CLAIMED.value
    if connection.vendor == "postgresql":
        rows = ", ".join([_PG_ROW] * len(outcomes))
        params: list[Any] = [now]
        for o in outcomes:
            params.extend(
                (o.delivery_id, o.status, o.attempts, o.code, o.reply[:1000], o.message_id,
                 o.provider_message_id, o.sent_at, o.next_attempt_at, o.server_id)
            )  # fmt: skip
        params.extend((claim_value, claimed))
        with connection.cursor() as cursor:
            cursor.execute(_PG_UPDATE_SQL.format(rows=rows), params)
        return
    with transaction.atomic(), connection.cursor() as cursor:
        done = []
        for o in outcomes:
            cursor.execute(_UPDATE_SQL, _row_params(o, when, now, claim_value, claimed))
            done.extend(cursor.fetchall())
        if done:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_SQLITE_DONE}"
                " (campaign_id integer, subscriber_id integer, status text)"
            )
            cursor.executemany(f"INSERT INTO {_SQLITE_DONE} VALUES (%s, %s, %s)", done)  # noqa: S608
            cursor.execute(_SQLITE_TALLY)
            cursor.execute(f"DELETE FROM {_SQLITE_DONE}")  # noqa: S608


def _row_params(
    o: RowOutcome, when: Callable[[Any], Any], now: Any, claim: Any, claimed: str
) -> tuple[Any, ...]:
    return (
        o.status, o.attempts, o.code, o.reply[:1000], o.message_id, o.provider_message_id,
        when(o.sent_at),
        when(o.next_attempt_at), o.server_id, now, o.delivery_id, claim, claimed,
    )  # fmt: skip


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with ±25% jitter so retries of a batch spread out."""
    base = float(settings.POSTINO["RETRY_BASE_SECONDS"])
    delay = min(base * (2 ** max(0, attempts - 1)), float(settings.POSTINO["RETRY_MAX_SECONDS"]))
    return timedelta(seconds=delay * random.uniform(0.75, 1.25))


class LedgerWriter:
    """Buffers one chunk's outcomes and writes them in batches."""

    def __init__(self, claim: uuid.UUID) -> None:
        self.claim = claim
        self._buffer: list[RowOutcome] = []
        self._last_flush = time.monotonic()

    def add(self, outcome: RowOutcome) -> None:
        self._buffer.append(outcome)

    def due(self) -> bool:
        return len(self._buffer) >= FLUSH_EVERY or (
            bool(self._buffer) and time.monotonic() - self._last_flush >= FLUSH_SECONDS
        )

    def flush(self) -> None:
        if self._buffer:
            apply_outcomes(self.claim, self._buffer)
            self._buffer = []
            # Everything journaled so far is now in the database.
            with contextlib.suppress(redis.RedisError):
                redis_client().delete(journal_key(self.claim))
        self._last_flush = time.monotonic()


def recover_claim(claim: uuid.UUID) -> int:
    """Replay a dead worker's journal onto the ledger; returns rows recovered."""
    try:
        client = redis_client()
        entries = client.lrange(journal_key(claim), 0, -1)
        inflight = client.smembers(inflight_key(claim))
    except redis.RedisError as exc:
        log.warning("claim %s: journal unreadable (%s); its rows will be retried", claim, exc)
        return 0
    outcomes = [RowOutcome.from_json(entry) for entry in entries]
    apply_outcomes(claim, outcomes)
    done = {outcome.delivery_id for outcome in outcomes}
    unknown = sorted(int(ident) for ident in inflight if int(ident) not in done)
    if unknown:
        log.warning(
            "claim %s: %s deliveries were in flight when its worker died (%s); they will be "
            "sent again and may arrive twice",
            claim,
            len(unknown),
            ", ".join(map(str, unknown[:20])),
        )
    with contextlib.suppress(redis.RedisError):
        client.delete(journal_key(claim), inflight_key(claim))
    return len(outcomes)


@dataclass(slots=True)
class Recorder:
    """One chunk's outcomes: classify each answer, buffer it, feed the breaker."""

    campaign: Campaign
    server_id: int
    claim: uuid.UUID
    writer: LedgerWriter = field(init=False)
    sent: int = 0
    max_attempts: int = field(init=False)
    _attempts: int = 0
    _failures: int = 0
    _streak: int = 0
    _refusals: list[SmtpFailure] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.writer = LedgerWriter(self.claim)
        self.max_attempts = int(settings.POSTINO["MAX_ATTEMPTS"])

    @property
    def streak(self) -> int:
        return self._streak

    def answered(
        self, row: Delivery, email: str, result: SendResult, message_id: str
    ) -> RowOutcome:
        """The server answered for ``row``: record its next state."""
        outcome = self._classify(row, email, result, message_id)
        self.writer.add(outcome)
        return outcome

    def _classify(
        self, row: Delivery, email: str, result: SendResult, message_id: str
    ) -> RowOutcome:
        now = timezone.now()
        attempts = row.attempts + 1
        code, reply = result.code, result.reply
        self._attempts += 1
        if result.outcome is Outcome.SENT:
            self.sent += 1
            self._streak = 0
            return RowOutcome(
                row.pk, Delivery.Status.SENT, attempts, code, reply, message_id, now, None,
                self.server_id, result.provider_id,
            )  # fmt: skip
        self._failures += 1
        self._streak += 1
        if result.outcome is Outcome.PERMANENT:
            # A refusal of the address is a bounce: into the bounce log too.
            self._refusals.append(
                SmtpFailure(row.pk, row.campaign_id, row.subscriber_id, email, code, reply)
            )
            return RowOutcome(row.pk, Delivery.Status.FAILED, attempts, code, reply,
                              server_id=self.server_id)  # fmt: skip
        if attempts >= self.max_attempts:
            return RowOutcome(
                row.pk, Delivery.Status.FAILED, attempts, code,
                f"gave up after {attempts} attempts: {reply}", server_id=self.server_id,
            )  # fmt: skip
        return RowOutcome(
            row.pk, Delivery.Status.PENDING, attempts, code, reply,
            next_attempt_at=now + retry_delay(attempts), server_id=self.server_id,
        )  # fmt: skip

    def failed(self, row: Delivery, reason: str, *, attempted: bool) -> None:
        """Failed without an answer to classify (suppressed, template error)."""
        attempts = row.attempts + 1 if attempted else row.attempts
        self.writer.add(RowOutcome(row.pk, Delivery.Status.FAILED, attempts, None, reason))

    def deferred(self, row: Delivery, seconds: float, reason: str) -> None:
        """Not attempted (a limit said "later"): no attempt is counted."""
        self.writer.add(
            RowOutcome(
                row.pk, Delivery.Status.PENDING, row.attempts, row.smtp_code, reason,
                next_attempt_at=timezone.now() + timedelta(seconds=seconds),
            )
        )  # fmt: skip

    def flush(self) -> bool:
        """Write the buffered outcomes; True when the error thresholds paused us."""
        self.writer.flush()
        if self._refusals:
            record_smtp_failures(self._refusals)
            self._refusals = []
        paused = breaker.check_error_thresholds(
            self.campaign, self._attempts, self._failures, self._streak
        )
        self._attempts = self._failures = self._streak = 0
        return paused

    def give_back(self, seconds: float | None) -> None:
        """Return the claim's unattempted rows to pending, due after ``seconds``."""
        self.writer.flush()
        now = timezone.now()
        Delivery.objects.filter(claim_token=self.claim, status=Delivery.Status.CLAIMED).update(
            status=Delivery.Status.PENDING,
            claim_token=None,
            lease_until=None,
            next_attempt_at=now + timedelta(seconds=seconds) if seconds else None,
            updated_at=now,
        )
