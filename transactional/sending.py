"""The transactional worker: due messages out through their channel, ahead of bulk.

``drain`` claims due messages in batches (``FOR UPDATE SKIP LOCKED``, a
lease, as campaign chunks claim their rows), and sends each batch through the
same channel machinery campaigns use (``delivery.pipeline``: the SMTP pool
or the ESP's API, the transmit stage's lanes), with two differences that make
it the priority lane:

* it runs on its own Celery queue (``postino-tx``), so a worker busy with
  campaign chunks never holds a password reset back;
* it asks the gate for turns of the server's rate in its priority mode,
  which books them ahead of the chunks, within ``TX_RATE_SHARE`` while a
  campaign sends; and
  it opens connections from the ones bulk leaves free
  (``TX_RESERVED_CONNECTIONS``).

Outcomes are written every few answers: accepted → ``sent``; 5xx →
``bounced`` (and a bounce event, so the policy suppresses a dead address);
4xx, timeouts, dropped connections → ``deferred`` with the campaign
backoff, ``failed`` after ``SEND_MAX_ATTEMPTS``; a channel that cannot be
used → ``deferred`` without counting an attempt. A worker killed mid-batch
leaves its rows ``sending``; ``tick`` gives them back when the lease
passes. Nothing is dropped.
"""

from __future__ import annotations

import email
import logging
import time
import uuid
from collections import deque
from collections.abc import Iterable
from datetime import timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import getaddresses, parseaddr

import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from bounces.services import TxRefusal, record_tx_refusals, suppressed_emails
from campaigns.personalize import subscriber_links
from delivery import dkim, verp
from delivery.domains import keys_for
from delivery.mime import ascii_address
from delivery.models import SmtpServer
from delivery.pipeline import breaker
from delivery.pipeline.channel import open_channel
from delivery.pipeline.gate import ADMIT_BATCH, PRIORITY_HORIZON_MS, Gate, ServerLimits, Verdict
from delivery.pipeline.record import retry_delay
from delivery.pipeline.transmit import Done, Job, LaneFailed, Transmitter
from delivery.pipeline.types import (
    ChannelError,
    NoConnectionSlot,
    Outcome,
    PreparedMessage,
    SendResult,
    Stage,
)
from delivery.selectors import system_mail_server
from postino import jobs
from transactional import wake
from transactional.models import TxMessage
from transactional.services import SUPPRESSION_REASONS

log = logging.getLogger(__name__)

Status = TxMessage.Status
# Lanes one batch opens at most: transactional batches are small and urgent.
MAX_LANES = 8
# Outcomes are written at least this often, so a killed worker re-sends few.
FLUSH_SECONDS = 0.1
FLUSH_OUTCOMES = 20
# A drain task hands over to a fresh one after this long, so a steady stream
# never pins one worker process forever (and beat's tick can run).
DRAIN_SECONDS = 30.0
# Headers the ESP API sets from the message's own fields.
_STRUCTURAL = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "reply-to", "return-path",
        "dkim-signature", "received", "sender",
    }
)  # fmt: skip


def _lease() -> timedelta:
    return timedelta(seconds=int(settings.POSTINO["LEASE_SECONDS"]))


def drain(*, seconds: float = DRAIN_SECONDS) -> int:
    """Send every due message (for up to ``seconds``); returns how many were accepted."""
    wake.drain_started()
    deadline = time.monotonic() + seconds
    sent = 0
    while True:
        token, rows = claim(int(settings.POSTINO["TX_BATCH"]))
        if not rows:
            return sent
        sent += Batch(token, rows).send()
        if time.monotonic() > deadline:
            jobs.drain_transactional()
            return sent


def claim(size: int) -> tuple[uuid.UUID, list[TxMessage]]:
    """Claim up to ``size`` due messages; a concurrent drain never takes the same."""
    token = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic():
        ids = list(
            TxMessage.objects.select_for_update(skip_locked=True)
            .filter(status__in=[Status.QUEUED, Status.DEFERRED], next_attempt_at__lte=now)
            .order_by("next_attempt_at", "id")
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return token, []
        TxMessage.objects.filter(pk__in=ids).update(
            status=Status.SENDING, claim_token=token, lease_until=now + _lease(), updated_at=now
        )
    rows = list(
        TxMessage.objects.filter(claim_token=token)
        .select_related("payload", "channel", "credential", "category")
        .order_by("id")
    )
    return token, rows


def recover_expired_leases() -> int:
    """Messages a dead worker claimed go back to the queue (they may have
    been sent just before it died: the one duplicate window)."""
    now = timezone.now()
    expired = TxMessage.objects.filter(status=Status.SENDING, lease_until__lt=now)
    ids = list(expired.values_list("public_id", flat=True)[:10_000])
    if not ids:
        return 0
    count = TxMessage.objects.filter(public_id__in=ids, status=Status.SENDING).update(
        status=Status.DEFERRED,
        claim_token=None,
        lease_until=None,
        next_attempt_at=now,
        updated_at=now,
    )
    log.warning("transactional: %d messages back from an expired claim: %s", count, ids[:20])
    return count


def tick() -> int:
    """Beat's transactional round: recover dead claims, send what is due."""
    recover_expired_leases()
    return drain()


def default_channel() -> SmtpServer | None:
    """``TX_CHANNEL`` by name, else the system mail channel."""
    name = settings.POSTINO["TX_CHANNEL"]
    if name:
        server = SmtpServer.objects.filter(name=name).first()
        if server is not None:
            return server
        log.warning("TX_CHANNEL %r names no channel; using the system mail channel", name)
    return system_mail_server()


class Batch:
    """One claim's messages, sent and recorded."""

    def __init__(self, token: uuid.UUID, rows: list[TxMessage]) -> None:
        self.token = token
        self.rows = rows
        self.sent = 0
        self._pending: list[TxMessage] = []
        self._refusals: list[TxRefusal] = []
        self._last_flush = time.monotonic()
        self._keys: dict[str, list[dkim.DkimKey]] = {}

    def send(self) -> int:
        rows = self._still_allowed(self.rows)
        groups: dict[int, tuple[SmtpServer, list[TxMessage]]] = {}
        fallback: SmtpServer | None = None
        for row in rows:
            server = row.channel or (row.credential.channel if row.credential else None)
            if server is None:
                fallback = fallback or default_channel()
                server = fallback
            if server is None:
                self._defer(row, 60.0, "no channel to send through: add an SMTP server")
                continue
            groups.setdefault(server.pk, (server, []))[1].append(row)
        try:
            for server, group in groups.values():
                self._send_group(server, group)
        finally:
            self._flush()
        return self.sent

    def _still_allowed(self, rows: list[TxMessage]) -> list[TxMessage]:
        """Drop rows whose address was suppressed since they were accepted."""
        suppressed = suppressed_emails(row.email for row in rows)
        allowed = []
        for row in rows:
            reason = suppressed.get(row.email)
            if reason is None:
                allowed.append(row)
                continue
            row.status = Status.REFUSED
            row.smtp_reply = SUPPRESSION_REASONS.get(reason, f"suppressed: {reason}")
            self._pending.append(row)
        return allowed

    # Sending one channel's messages --------------------------------------------

    def _send_group(self, server: SmtpServer, rows: list[TxMessage]) -> None:
        unavailable = breaker.server_unavailable_for(server.pk)
        if unavailable > 0:
            # Out of rotation (down, or its quota spent): trying would cost a
            # connect timeout per batch and hold up the other channels' mail.
            reason = breaker.server_down_reason(server.pk) or "out of rotation"
            for row in rows:
                self._defer(row, unavailable, f"channel {server.name} unavailable: {reason}")
            return
        try:
            channel = open_channel(server)
        except ChannelError as exc:
            self._channel_failed(server, rows, exc)
            return
        gate = Gate(
            ServerLimits.for_server(server),
            priority_share=float(settings.POSTINO["TX_RATE_SHARE"]),
        )
        lanes = max(1, min(MAX_LANES, server.max_connections, len(rows)))
        transmitter = Transmitter(channel, max_lanes=lanes)
        queue: deque[TxMessage] = deque(rows)
        try:
            while queue or transmitter.in_flight:
                for event in transmitter.collect():
                    self._finished(server, event, transmitter, queue)
                self._flush_if_due()
                if transmitter.stranded():
                    failure = transmitter.last_failure or ChannelError(
                        Stage.SMTP, "no connection could be opened"
                    )
                    taken = [job.key for job in transmitter.take_back()]
                    left = [row for row in taken if isinstance(row, TxMessage)] + list(queue)
                    queue.clear()
                    if isinstance(failure, NoConnectionSlot):
                        # Busy, not broken: other transactional senders hold them.
                        for row in left:
                            self._defer(row, 1.0, "every connection of the channel is busy")
                    else:
                        self._channel_failed(server, left, failure)
                    break
                if not queue or not transmitter.room():
                    for event in transmitter.collect(timeout=0.05):
                        self._finished(server, event, transmitter, queue)
                    continue
                self._admit(server, gate, queue, transmitter, channel.wants_bytes)
        finally:
            transmitter.close(timeout=float(settings.POSTINO["SMTP_TIMEOUT"]) + 5)
            channel.close()
            for event in transmitter.collect():
                self._finished(server, event, transmitter, queue)
            for row in queue:
                self._defer(row, 5.0, "not attempted: the worker stopped")

    def _admit(
        self,
        server: SmtpServer,
        gate: Gate,
        queue: deque[TxMessage],
        transmitter: Transmitter,
        wants_bytes: bool,
    ) -> None:
        asked = [queue.popleft() for _ in range(min(ADMIT_BATCH, len(queue)))]
        try:
            results = gate.admit(
                [(_domain(row.email), "") for row in asked], horizon_ms=PRIORITY_HORIZON_MS
            )
        except redis.RedisError as exc:
            log.warning("transactional gate unavailable (%s); sending without it", exc)
            results = []
            for row in asked:
                self._submit(server, row, transmitter, wants_bytes)
            return
        started = time.monotonic()
        unasked = asked[len(results) :]
        for row, result in zip(asked, results, strict=False):
            if result.verdict is Verdict.OK:
                delay = started + result.wait_ms / 1000.0 - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._submit(server, row, transmitter, wants_bytes)
            elif result.verdict is Verdict.DOMAIN:
                self._defer(
                    row, result.wait_ms / 1000.0 + 0.01, f"{_domain(row.email)} is at its limit"
                )
            elif result.verdict is Verdict.QUOTA:
                seconds = result.wait_ms / 1000.0
                for later in [row, *unasked, *queue]:
                    self._defer(later, seconds, "the channel's hourly or daily quota is spent")
                queue.clear()
                return
            else:  # WAIT: our share of the rate is booked a second ahead
                unasked.insert(0, row)
                time.sleep(min(0.25, result.wait_ms / 1000.0 / 2))
        queue.extendleft(reversed(unasked))

    def _submit(
        self, server: SmtpServer, row: TxMessage, transmitter: Transmitter, wants_bytes: bool
    ) -> None:
        try:
            prepared, payload = self._build(row, wants_bytes)
        except Exception:  # a stored message we cannot read must not stop the rest
            log.exception("transactional message %s could not be built", row.public_id)
            self._finish(row, SendResult(Outcome.PERMANENT, None, "could not be built"), server)
            return
        transmitter.submit(Job(row, prepared, payload))

    def _build(self, row: TxMessage, wants_bytes: bool) -> tuple[PreparedMessage, bytes | None]:
        token = verp.make_tx_token(row.pk)
        raw = bytes(row.payload.raw) if row.payload is not None else b""
        envelope = verp.envelope_sender_for(token)
        raw = self._with_unsubscribe(row, raw)
        if wants_bytes:
            data = f"X-Postino-Ref: {token}\r\n".encode() + raw
            domain = row.from_email.rpartition("@")[2].lower()
            if domain not in self._keys:
                self._keys[domain] = keys_for(domain)
            keys = self._keys[domain]
            signed = dkim.sign(data, keys) if keys else data
            prepared = PreparedMessage(
                envelope_from=envelope,
                message_id=row.message_id,
                from_header=row.from_email,
                to_header=row.email,
                recipient=row.email,
                reply_to="",
                subject=row.subject,
                html="",
                text="",
                headers=[("X-Postino-Ref", token)],
            )
            return prepared, signed
        return esp_message(raw, recipient=row.email, envelope=envelope, token=token), None

    @staticmethod
    def _with_unsubscribe(row: TxMessage, raw: bytes) -> bytes:
        """A message of a marketing category gets its recipient's one-click
        unsubscribe, whichever way it came (only subscribers receive those)."""
        marketing = row.category is not None and row.category.marketing
        if not marketing or row.subscriber_id is None:
            return raw
        links = subscriber_links(subscriber_id=row.subscriber_id, campaign_id=None)
        head = (
            f"List-Unsubscribe: <{links['one_click_url']}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        )
        return head.encode() + raw

    # Outcomes ------------------------------------------------------------------

    def _finished(
        self,
        server: SmtpServer,
        event: Done | LaneFailed,
        transmitter: Transmitter,
        queue: deque[TxMessage],
    ) -> None:
        if isinstance(event, LaneFailed):
            return  # the transmitter retries or strands; handled in the loop
        row = event.job.key
        assert isinstance(row, TxMessage)
        if event.result is None:
            if transmitter.live > 0:
                transmitter.submit(event.job)  # another lane takes it
            else:
                queue.appendleft(row)
            return
        self._finish(row, event.result, server)

    def _finish(self, row: TxMessage, result: SendResult, server: SmtpServer) -> None:
        now = timezone.now()
        row.smtp_server = server
        row.smtp_code = result.code
        row.smtp_reply = result.reply[:2000]
        row.attempts += 1
        if result.outcome is Outcome.SENT:
            row.status = Status.SENT
            row.sent_at = now
            row.provider_message_id = result.provider_id[:255]
            self.sent += 1
        elif result.outcome is Outcome.PERMANENT:
            row.status = Status.BOUNCED
            row.bounced_at = now
            self._refusals.append(
                TxRefusal(row.pk, row.subscriber_id, row.email, result.code, result.reply)
            )
        elif row.attempts >= int(settings.POSTINO["MAX_ATTEMPTS"]):
            row.status = Status.FAILED
        else:
            row.status = Status.DEFERRED
            row.next_attempt_at = now + retry_delay(row.attempts)
        self._pending.append(row)

    def _defer(self, row: TxMessage, seconds: float, reason: str) -> None:
        """Later, without counting an attempt: nothing was tried."""
        row.status = Status.DEFERRED
        row.next_attempt_at = timezone.now() + timedelta(seconds=seconds)
        row.smtp_reply = f"deferred: {reason}"[:2000]
        self._pending.append(row)

    def _channel_failed(
        self, server: SmtpServer, rows: Iterable[TxMessage], exc: BaseException
    ) -> None:
        seconds = breaker.mark_server_down(server.pk, str(exc))
        breaker.record_event("connection", f"server {server.name}: {exc}")
        for row in rows:
            self._defer(row, min(seconds, 60.0), f"channel {server.name} unavailable: {exc}")

    def _flush_if_due(self) -> None:
        due = time.monotonic() - self._last_flush >= FLUSH_SECONDS
        if self._pending and (due or len(self._pending) >= FLUSH_OUTCOMES):
            self._flush()

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        now = timezone.now()
        for row in rows:
            row.claim_token = None
            row.lease_until = None
            row.updated_at = now  # bulk_update does not apply auto_now
        TxMessage.objects.bulk_update(
            rows,
            [
                "status", "attempts", "next_attempt_at", "claim_token", "lease_until",
                "smtp_server", "smtp_code", "smtp_reply", "provider_message_id", "sent_at",
                "bounced_at", "updated_at",
            ],
        )  # fmt: skip
        refusals, self._refusals = self._refusals, []
        record_tx_refusals(refusals)


def _domain(address: str) -> str:
    return ascii_address(address).rpartition("@")[2].lower()


def _payload_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def esp_message(raw: bytes, *, recipient: str, envelope: str, token: str) -> PreparedMessage:
    """The parts of a stored MIME message, for a channel that builds its own
    (an ESP's API). It goes to ``recipient`` alone: an API's "to" list would
    send one copy to each address of a relay message's To header."""
    parsed = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    attachments = tuple(
        (
            part.get_filename() or "attachment",
            part.get_content_type(),
            _payload_bytes(part),
        )
        for part in parsed.iter_attachments()
    )
    headers = [(str(name), str(value)) for name, value in parsed.items()]
    kept = [(name, value) for name, value in headers if name.lower() not in _STRUCTURAL]
    reply_to = ", ".join(a for _, a in getaddresses([str(parsed.get("Reply-To", ""))]) if a)
    return PreparedMessage(
        envelope_from=envelope,
        message_id=str(parsed.get("Message-ID", "")),
        from_header=str(parsed.get("From", "")) or parseaddr(envelope)[1],
        to_header=recipient,
        recipient=recipient,
        reply_to=reply_to,
        subject=str(parsed.get("Subject", "")),
        html=str(html_part.get_content()) if html_part is not None else "",
        text=str(text_part.get_content()) if text_part is not None else "",
        headers=[*kept, ("X-Postino-Ref", token)],
        attachments=attachments,
    )
