"""Recording outcomes in the ledger: batched in the database, journaled in Redis.

Writing each outcome to the database the moment the SMTP server answers costs a
commit (and a WAL flush) per message, which caps a worker at a few hundred
messages per second. So a chunk keeps its outcomes in memory and writes them
with one UPDATE per batch (``LedgerWriter.flush``, every ``FLUSH_EVERY``
messages or ``FLUSH_SECONDS``), and meanwhile journals each outcome in Redis,
in the same round trip that asks the rate limiter about the next message.

If the worker dies, ``recover_claim`` replays that journal onto the ledger
before the claim's unsent rows go back to ``pending``: only the one message in
flight at the moment of death can be sent twice.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import redis
from django.db import connection, transaction
from django.utils import timezone

from delivery.models import Delivery
from delivery.shaping import inflight_key, journal_key
from postino.redis import redis_client

log = logging.getLogger(__name__)

FLUSH_EVERY = 200
FLUSH_SECONDS = 1.0


@dataclass(slots=True)
class Outcome:
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
        data = asdict(self)
        for key in ("sent_at", "next_attempt_at"):
            if data[key] is not None:
                data[key] = data[key].isoformat()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, raw: bytes | str) -> Outcome:
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
"""  # noqa: S608 - the table name comes from model metadata; values are parameters


_PG_ROW = (
    "(%s::bigint, %s::varchar, %s::integer, %s::integer, %s::text, %s::varchar,"
    " %s::varchar, %s::timestamptz, %s::timestamptz, %s::bigint)"
)
_PG_UPDATE_SQL = f"""
    UPDATE {Delivery._meta.db_table} AS d
    SET status = v.status, attempts = v.attempts, smtp_code = v.code, smtp_reply = v.reply,
        message_id = v.message_id, provider_message_id = v.provider_message_id,
        sent_at = v.sent_at, next_attempt_at = v.next_attempt_at,
        smtp_server_id = v.server_id, claim_token = NULL, lease_until = NULL, updated_at = %s
    FROM (VALUES {{rows}}) AS v(id, status, attempts, code, reply, message_id,
                                provider_message_id, sent_at, next_attempt_at, server_id)
    WHERE d.id = v.id AND d.claim_token = %s AND d.status = %s
"""  # noqa: S608 - the table name comes from model metadata; values are parameters


def apply_outcomes(claim: uuid.UUID, outcomes: list[Outcome]) -> None:
    """Write a batch at once; only rows still held by this claim change.

    On PostgreSQL it is one ``UPDATE … FROM (VALUES …)`` statement; on SQLite
    (local, no network) an ``executemany`` in one transaction. Either way a
    batch costs one commit rather than one per message. (Django's
    ``bulk_update`` would do it in one statement too, but compiling its CASE
    expressions for hundreds of rows costs more than the database work.)
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
        # One statement for the whole batch: UPDATE … FROM (VALUES …).
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
        cursor.executemany(
            _UPDATE_SQL, [_row_params(o, when, now, claim_value, claimed) for o in outcomes]
        )


def _row_params(
    o: Outcome, when: Callable[[Any], Any], now: Any, claim: Any, claimed: str
) -> tuple[Any, ...]:
    return (
        o.status, o.attempts, o.code, o.reply[:1000], o.message_id, o.provider_message_id,
        when(o.sent_at),
        when(o.next_attempt_at), o.server_id, now, o.delivery_id, claim, claimed,
    )  # fmt: skip


class LedgerWriter:
    """Buffers one chunk's outcomes and writes them in batches."""

    def __init__(self, claim: uuid.UUID) -> None:
        self.claim = claim
        self._buffer: list[Outcome] = []
        self._last_flush = time.monotonic()

    def add(self, outcome: Outcome) -> None:
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
        inflight = client.get(inflight_key(claim))
    except redis.RedisError as exc:
        log.warning("claim %s: journal unreadable (%s); its rows will be retried", claim, exc)
        return 0
    outcomes = [Outcome.from_json(entry) for entry in entries]
    apply_outcomes(claim, outcomes)
    done = {outcome.delivery_id for outcome in outcomes}
    if inflight and int(inflight) not in done:
        log.warning(
            "claim %s: delivery %s was in flight when its worker died; it will be sent again "
            "and may arrive twice",
            claim,
            int(inflight),
        )
    with contextlib.suppress(redis.RedisError):
        client.delete(journal_key(claim), inflight_key(claim))
    return len(outcomes)
