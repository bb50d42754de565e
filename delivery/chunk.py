"""One chunk of a campaign: claim, then for each recipient render, pass the
shared gate (rates, quotas, domain limits), send, and record the outcome.

The pieces it relies on: ``sender.claim_chunk`` (atomic claims with leases),
``messages.MessageFactory`` (render and build once-compiled templates),
``shaping`` (limits and server health in Redis), ``smtp`` (pooled
connections and reply classification) and ``ledger`` (batched, journaled
outcomes).
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
import random
import socket
import time
import uuid
from collections import defaultdict, deque
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.utils import timezone

from bounces.services import SmtpFailure, record_smtp_failures, suppressed_emails
from campaigns.models import Campaign
from campaigns.rendering import TemplateValidationError
from delivery import sender, shaping
from delivery.esp import EspTransport
from delivery.ledger import LedgerWriter, Outcome
from delivery.messages import MessageFactory, PreparedMessage
from delivery.mime import ascii_address
from delivery.models import Delivery, SmtpServer
from delivery.shaping import ConnectionSlots, Gate, ServerLimits, Verdict
from delivery.smtp import (
    POOL,
    NoConnectionSlot,
    PooledConnection,
    SendResult,
    SmtpConnectError,
    SmtpSettings,
    send_message,
)
from delivery.smtp import (
    Outcome as SmtpOutcome,
)
from postino.redis import redis_client

log = logging.getLogger(__name__)

STAGES_KEY = "postino:stats:stages"
# A recipient whose domain is at its limit for at most this long waits in the
# chunk (already rendered); longer, and the row is deferred in the ledger.
SHORT_DOMAIN_WAIT = 2.0
EVENTS_KEY = "postino:events"


def _conf(name: str) -> Any:
    return settings.POSTINO[name]


class StageClock:
    """Where a chunk's time goes, per stage; published to Redis per chunk."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.messages = 0
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] += now - self._last
        self._last = now

    def publish(self) -> None:
        if not self.seconds:
            return
        try:
            pipe = redis_client().pipeline(transaction=False)
            for stage, seconds in self.seconds.items():
                pipe.hincrbyfloat(STAGES_KEY, stage, seconds)
            pipe.hincrby(STAGES_KEY, "messages", self.messages)
            pipe.execute()
        except redis.RedisError:
            pass


def record_event(kind: str, message: str) -> None:
    """Keep the last errors that have no ledger row (connections, quotas)."""
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.lpush(EVENTS_KEY, f"{timezone.now().isoformat()} {kind} {message}"[:500])
        pipe.ltrim(EVENTS_KEY, 0, 199)
        pipe.execute()
    except redis.RedisError:
        pass


# --- which server ------------------------------------------------------------


def campaign_servers(campaign: Campaign) -> list[tuple[SmtpServer, int]]:
    """The campaign's SMTP servers with their weights, main server first."""
    servers: list[tuple[SmtpServer, int]] = []
    if campaign.smtp_server is not None:
        servers.append((campaign.smtp_server, max(1, campaign.smtp_weight)))
    for link in campaign.server_links.select_related("smtp_server").order_by("id"):
        if link.smtp_server_id != campaign.smtp_server_id:
            servers.append((link.smtp_server, link.weight))
    return servers


def choose_server(candidates: list[tuple[SmtpServer, int]]) -> tuple[SmtpServer | None, float]:
    """Weighted choice among servers in rotation; else (None, seconds to wait)."""
    available = []
    soonest = float("inf")
    for server, weight in candidates:
        unavailable = shaping.server_unavailable_for(server.pk)
        if unavailable > 0:
            soonest = min(soonest, unavailable)
        else:
            available.append((server, weight))
    if not available:
        return None, soonest if soonest != float("inf") else 0.0
    total = sum(weight for _, weight in available)
    pick = random.uniform(0, total)
    for server, weight in available:
        pick -= weight
        if pick <= 0:
            return server, 0.0
    return available[-1][0], 0.0


# --- circuit breaker ---------------------------------------------------------


def _tally_key(campaign_id: int) -> str:
    return f"postino:campaign:{campaign_id}:tally"


def error_limits(campaign: Campaign) -> tuple[int, float]:
    """(failures in a row, failure rate) at which the campaign pauses itself."""
    max_errors = campaign.max_errors or int(_conf("MAX_CONSECUTIVE_FAILURES"))
    max_rate = campaign.max_error_rate
    if max_rate is None:
        max_rate = float(_conf("MAX_ERROR_RATE"))
    return max_errors, max_rate


def check_error_thresholds(campaign: Campaign, attempts: int, failures: int, streak: int) -> bool:
    """Add a batch's counts to the campaign's tally (shared by all workers, in
    Redis) and pause the campaign when errors pile up. Returns True if paused.

    ``streak`` is the run of failures that ended the batch; when it is shorter
    than the batch's attempts, a message got through in between and the
    campaign's run of failures starts again from there.
    """
    if not attempts:
        return False
    key = _tally_key(campaign.pk)
    try:
        pipe = redis_client().pipeline(transaction=True)
        pipe.hincrby(key, "attempts", attempts)
        pipe.hincrby(key, "failures", failures)
        if streak < attempts:
            pipe.hset(key, "streak", streak)
        pipe.hincrby(key, "streak", 0 if streak < attempts else streak)
        pipe.expire(key, 7 * 24 * 3600)
        results = pipe.execute()
    except redis.RedisError:
        return False
    total_attempts, total_failures, current_streak = (
        int(results[0]),
        int(results[1]),
        int(results[-2]),
    )
    max_errors, max_rate = error_limits(campaign)
    reason = ""
    if current_streak >= max_errors:
        reason = f"Paused automatically: {current_streak} messages in a row failed."
    elif (
        total_attempts >= int(_conf("ERROR_RATE_MIN_SAMPLE"))
        and total_failures / total_attempts > max_rate
    ):
        reason = (
            f"Paused automatically: {total_failures / total_attempts:.0%} of {total_attempts} "
            f"attempts failed (threshold {max_rate:.0%})."
        )
    if not reason:
        return False
    from campaigns.services import CampaignStateError, pause_campaign

    try:
        pause_campaign(campaign=campaign, reason=reason)
    except CampaignStateError:
        return False
    log.warning("campaign %s: %s", campaign.pk, reason)
    return True


# --- the chunk ---------------------------------------------------------------


def run_chunk(campaign_id: int) -> int:
    """Claim one chunk and send it. Returns the number of messages accepted."""
    from postino import jobs

    campaign = sender._load_campaign(campaign_id)
    if campaign is None or campaign.status != Campaign.Status.RUNNING:
        return 0
    candidates = campaign_servers(campaign)
    if not candidates:
        from campaigns.services import pause_campaign

        pause_campaign(campaign=campaign, reason="No SMTP server is set for this campaign.")
        return 0
    server, wait = choose_server(candidates)
    if server is None:
        # Every server is down or out of quota; tick re-dispatches later.
        sender._clear_active(campaign_id)
        log.info("campaign %s: no SMTP server available for %.0fs", campaign_id, wait)
        return 0
    token = sender.claim_chunk(campaign_id, chunk_size(server))
    if token is None:
        sender._clear_active(campaign_id)
        sender.maybe_finish(campaign_id)
        return 0
    sender._mark_active(campaign_id)
    run = ChunkRun(campaign, server, token, multiple_servers=len(candidates) > 1)
    try:
        run.send()
    finally:
        run.close()
    if run.continue_campaign and sender._still_running(campaign_id):
        jobs.send_chunk(campaign_id)
    else:
        sender.maybe_finish(campaign_id)
    return run.sent


def chunk_size(server: SmtpServer) -> int:
    # A slow server gets smaller chunks so leases and pauses stay responsive.
    by_rate = max(10, int(server.messages_per_second * 60))
    return min(int(_conf("CHUNK_SIZE")), by_rate)


class SmtpChannel:
    """An SMTP server through the per-process pool, under the shared cap."""

    def __init__(self, server: SmtpServer, factory: MessageFactory) -> None:
        self.factory = factory
        self._context = POOL.connection(
            SmtpSettings.from_server(server), ConnectionSlots(server.pk, server.max_connections)
        )
        self._handle: PooledConnection | None = None

    def __enter__(self) -> SmtpChannel:
        self._handle = self._context.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._context.__exit__(*exc_info)

    def payload(self, prepared: PreparedMessage) -> bytes:
        return self.factory.as_bytes(prepared)  # MIME and DKIM signature

    def deliver(self, prepared: PreparedMessage, payload: bytes | None) -> SendResult:
        assert self._handle is not None and payload is not None
        return send_message(
            self._handle,
            envelope_from=prepared.envelope_from,
            recipient=prepared.recipient,
            message=payload,
        )

    def keepalive(self) -> None:
        if self._handle is not None:
            self._handle.refresh_slot()


class EspChannel:
    """An email service provider's API through django-anymail.

    ``max_connections`` is promised as API calls in flight across every
    worker: the chunk holds one of the server's shared ``ConnectionSlots``
    (the same Redis set SMTP connections count against) from its first call
    until it closes, since it sends one call at a time over one session.
    """

    def __init__(self, server: SmtpServer, campaign: Campaign) -> None:
        self.transport = EspTransport(server.esp, server.esp_credentials)
        self.campaign_id = campaign.pk
        self._slots = ConnectionSlots(server.pk, server.max_connections)
        # Unique per channel, not per process: two chunks in one process (or
        # thread) must each count as a call in flight.
        self._member = f"{socket.gethostname()}:{os.getpid()}:esp:{server.pk}:{uuid.uuid4().hex}"
        self._holds_slot = False

    def __enter__(self) -> EspChannel:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self.transport.close()
        finally:
            if self._holds_slot:
                self._slots.release(self._member)
                self._holds_slot = False

    def payload(self, prepared: PreparedMessage) -> None:
        return None  # the ESP builds (and signs) the MIME itself

    def deliver(self, prepared: PreparedMessage, payload: bytes | None) -> SendResult:
        if not self._holds_slot:
            # Taken at the first call, as SMTP takes its slot when it first
            # connects; none free means busy, not broken (rows deferred briefly).
            if not self._slots.acquire(self._member):
                raise NoConnectionSlot(f"all {self._slots.maximum} API calls in flight are in use")
            self._holds_slot = True
        # Metadata comes back in the ESP's webhooks: it names the ledger row.
        ref = dict(prepared.headers).get("X-Postino-Ref", "")
        return self.transport.send(
            prepared, metadata={"postino_ref": ref, "postino_campaign": str(self.campaign_id)}
        )

    def keepalive(self) -> None:
        if self._holds_slot:
            # Keep a long chunk's slot from expiring (it lapses on its own
            # after SLOT_TTL_MS if this worker dies holding it).
            self._slots.acquire(self._member)


def open_channel(server: SmtpServer, factory: MessageFactory) -> SmtpChannel | EspChannel:
    if server.kind == SmtpServer.Kind.ESP:
        return EspChannel(server, factory.campaign)
    return SmtpChannel(server, factory)


class ChunkRun:
    def __init__(
        self, campaign: Campaign, server: SmtpServer, token: uuid.UUID, *, multiple_servers: bool
    ) -> None:
        self.campaign = campaign
        self.server = server
        self.token = token
        self.multiple_servers = multiple_servers
        self.writer = LedgerWriter(token)
        self.clock = StageClock()
        self.sent = 0
        self.continue_campaign = True
        self._attempts = 0
        self._failures = 0
        self._streak = 0
        self._max_attempts = int(_conf("MAX_ATTEMPTS"))
        self._max_errors, _ = error_limits(campaign)
        self._refusals: list[SmtpFailure] = []

    # Outcomes -----------------------------------------------------------------

    def _outcome_for(self, row: Delivery, result: SendResult, message_id: str) -> Outcome:
        now = timezone.now()
        attempts = row.attempts + 1
        result_status, code, reply = result.outcome, result.code, result.reply
        self._attempts += 1
        if result_status is SmtpOutcome.SENT:
            self.sent += 1
            self._streak = 0
            return Outcome(
                row.pk, Delivery.Status.SENT, attempts, code, reply, message_id, now, None,
                self.server.pk, result.provider_id,
            )  # fmt: skip
        self._failures += 1
        self._streak += 1
        if result_status is SmtpOutcome.PERMANENT:
            # A refusal of the address is a bounce: into the bounce log too.
            self._refusals.append(
                SmtpFailure(row.pk, row.campaign_id, row.subscriber_id,
                            row.subscriber.email, code, reply)
            )  # fmt: skip
            return Outcome(row.pk, Delivery.Status.FAILED, attempts, code, reply,
                           server_id=self.server.pk)  # fmt: skip
        if attempts >= self._max_attempts:
            return Outcome(
                row.pk, Delivery.Status.FAILED, attempts, code,
                f"gave up after {attempts} attempts: {reply}", server_id=self.server.pk,
            )  # fmt: skip
        return Outcome(
            row.pk, Delivery.Status.PENDING, attempts, code, reply,
            next_attempt_at=now + sender.retry_delay(attempts), server_id=self.server.pk,
        )  # fmt: skip

    def _deferred(self, row: Delivery, seconds: float, reason: str) -> Outcome:
        """Not attempted (a limit said "later"): no attempt is counted."""
        return Outcome(
            row.pk, Delivery.Status.PENDING, row.attempts, row.smtp_code, reason,
            next_attempt_at=timezone.now() + timedelta(seconds=seconds),
        )  # fmt: skip

    def _flush(self) -> bool:
        """Write the buffered outcomes; True when the error thresholds paused us."""
        self.writer.flush()
        if self._refusals:
            record_smtp_failures(self._refusals)
            self._refusals = []
        paused = check_error_thresholds(self.campaign, self._attempts, self._failures, self._streak)
        self._attempts = self._failures = self._streak = 0
        return paused

    def _defer_rest(self, seconds: float | None) -> None:
        """Give the unsent rest of the claim back, available after ``seconds``."""
        self.writer.flush()
        now = timezone.now()
        Delivery.objects.filter(claim_token=self.token, status=Delivery.Status.CLAIMED).update(
            status=Delivery.Status.PENDING,
            claim_token=None,
            lease_until=None,
            next_attempt_at=now + timedelta(seconds=seconds) if seconds else None,
            updated_at=now,
        )

    # The loop -------------------------------------------------------------------

    def send(self) -> None:
        rows = list(
            Delivery.objects.filter(claim_token=self.token, status=Delivery.Status.CLAIMED)
            .select_related("subscriber")
            .order_by("id")
        )
        # Suppressed since the audience was snapshotted (a bounce or complaint
        # from an earlier message): not sent, and not counted as an attempt.
        suppressed = suppressed_emails(row.subscriber.email for row in rows)
        if suppressed:
            for row in [r for r in rows if r.subscriber.email in suppressed]:
                reason = suppressed[row.subscriber.email].replace("_", " ")
                self.writer.add(Outcome(row.pk, Delivery.Status.FAILED, row.attempts, None,
                                        f"suppressed: {reason}"))  # fmt: skip
            rows = [r for r in rows if r.subscriber.email not in suppressed]
        self.clock.lap("audience")
        factory = MessageFactory(self.campaign)
        gate = Gate(
            ServerLimits.for_server(self.server), claim=self.token, campaign_id=self.campaign.pk
        )
        status_every = float(_conf("STATUS_CHECK_SECONDS"))
        renew_every = max(1.0, int(_conf("LEASE_SECONDS")) / 3)
        next_status_check = time.monotonic() + status_every
        next_renewal = time.monotonic() + renew_every
        journal_entry = ""
        degraded = False
        self.clock.lap("setup")
        try:
            channel = open_channel(self.server, factory)
        except SmtpConnectError as exc:
            self._connection_failed(exc)
            return
        queue: deque[Delivery] = deque(rows)
        # Recipients whose domain is briefly at its limit wait here, ready to
        # send, while the chunk goes on with other domains (see _next_row).
        waiting: list[tuple[float, int, Delivery, tuple[PreparedMessage, bytes | None]]] = []
        with channel:
            while queue or waiting:
                row, built = self._next_row(queue, waiting)
                now = time.monotonic()
                if now >= next_status_check:
                    next_status_check = now + status_every
                    if not sender._still_running(self.campaign.pk):
                        self.continue_campaign = False
                        return
                    sender._mark_active(self.campaign.pk)
                if now >= next_renewal:
                    next_renewal = now + renew_every
                    sender.renew_lease(self.token)
                    channel.keepalive()
                self.clock.lap("control")

                subscriber = row.subscriber
                try:
                    if built is None:
                        prepared = factory.prepare(subscriber=subscriber, delivery_id=row.pk)
                        payload = channel.payload(prepared)
                    else:
                        prepared, payload = built
                except TemplateValidationError as exc:
                    # Validated on save and start; a runtime error specific to
                    # one subscriber's data fails that row only.
                    self.writer.add(Outcome(row.pk, Delivery.Status.FAILED, row.attempts + 1,
                                            None, f"template error: {exc}"))  # fmt: skip
                    continue
                self.clock.lap("render")

                # Domain limits are stored in IDNA form, as the address is sent.
                domain = ascii_address(subscriber.email).rpartition("@")[2].lower()
                verdict = Verdict.OK
                while not degraded:
                    try:
                        gate_result = gate.check(
                            domain=domain, inflight=str(row.pk), journal_entry=journal_entry
                        )
                    except redis.RedisError as exc:
                        # Redis is away (restart, failover): write outcomes
                        # straight to the database and pace this process alone.
                        log.warning(
                            "chunk %s: Redis unavailable (%s); degraded mode", self.token, exc
                        )
                        degraded = True
                        break
                    journal_entry = ""
                    verdict = gate_result.verdict
                    if verdict is Verdict.STOP and not self._stop_is_current():
                        continue  # a stale stop key, now gone: ask the gate again
                    if verdict is Verdict.WAIT:
                        self.clock.lap("gate")
                        time.sleep(gate_result.wait_ms / 1000.0)
                        self.clock.lap("throttled")
                        continue
                    break
                if degraded:
                    self.writer.flush()
                    time.sleep(1.0 / self.server.messages_per_second)
                self.clock.lap("gate")
                if verdict is Verdict.STOP:
                    # Paused or cancelled: this row and the rest of the claim
                    # go back to pending in close(); the previous outcome was
                    # journaled by this same gate call.
                    self.continue_campaign = False
                    return
                if verdict is Verdict.DOMAIN:
                    seconds = gate_result.wait_ms / 1000.0 + 0.01
                    if seconds <= SHORT_DOMAIN_WAIT:
                        ready_at = time.monotonic() + seconds
                        heapq.heappush(waiting, (ready_at, row.pk, row, (prepared, payload)))
                    else:
                        reason = f"deferred: {domain} is at its sending limit"
                        self.writer.add(self._deferred(row, seconds, reason))
                    continue
                if verdict is Verdict.QUOTA:
                    seconds = gate_result.wait_ms / 1000.0
                    shaping.mark_server_exhausted(self.server.pk, gate_result.wait_ms)
                    record_event(
                        "quota", f"server {self.server.name}: quota spent for {seconds:.0f}s"
                    )
                    self._defer_rest(None if self.multiple_servers else seconds)
                    return

                try:
                    result = channel.deliver(prepared, payload)
                except (SmtpConnectError, NoConnectionSlot) as exc:
                    self.clock.lap("smtp")
                    self._connection_failed(exc)
                    return
                self.clock.lap("smtp")
                outcome = self._outcome_for(row, result, prepared.message_id)
                self.writer.add(outcome)
                self.clock.messages += 1
                journal_entry = "" if degraded else outcome.to_json()
                # A run of failures long enough to trip the breaker is checked
                # at once rather than at the next periodic flush.
                if degraded or self.writer.due() or self._streak >= self._max_errors:
                    journal_entry = ""
                    if self._flush():
                        self.continue_campaign = False
                        return
                self.clock.lap("ledger")
            self._flush()
            self.clock.lap("ledger")
        shaping.mark_server_up(self.server.pk)

    def _stop_is_current(self) -> bool:
        """Obey a stop key only while the database agrees the campaign is not
        running: a key left behind (Redis kept it through a resume it missed)
        is dropped instead of wedging the campaign."""
        if not sender._still_running(self.campaign.pk):
            return True
        log.warning("campaign %s: stale stop key dropped; still running", self.campaign.pk)
        shaping.clear_stop(self.campaign.pk)
        return False

    def _next_row(
        self,
        queue: deque[Delivery],
        waiting: list[tuple[float, int, Delivery, tuple[PreparedMessage, bytes | None]]],
    ) -> tuple[Delivery, tuple[PreparedMessage, bytes | None] | None]:
        """The next recipient: one whose domain wait is over, else the next in
        line; when only waiting ones remain, sleep until the first is ready."""
        if waiting and (not queue or waiting[0][0] <= time.monotonic()):
            ready_at, _, row, built = heapq.heappop(waiting)
            delay = ready_at - time.monotonic()
            if delay > 0:
                self.clock.lap("control")
                time.sleep(delay)
                self.clock.lap("throttled")
            return row, built
        return queue.popleft(), None

    def _connection_failed(self, exc: Exception) -> None:
        if isinstance(exc, NoConnectionSlot):
            # Busy, not broken: give the rows back for another worker shortly.
            self._defer_rest(2.0)
            return
        seconds = shaping.mark_server_down(self.server.pk, str(exc))
        record_event("connection", f"server {self.server.name}: {exc}")
        log.warning(
            "campaign %s: %s (server out of rotation for %.0fs)", self.campaign.pk, exc, seconds
        )
        # With another server in rotation the rows are free at once; alone,
        # they wait for this one to come back.
        self._defer_rest(None if self.multiple_servers else seconds)
        self._connection_failures(str(exc))

    def _connection_failures(self, message: str) -> None:
        key = f"postino:campaign:{self.campaign.pk}:connect-failures"
        try:
            count = int(redis_client().incr(key))
            redis_client().expire(key, 24 * 3600)
        except redis.RedisError:
            return
        if count >= int(_conf("MAX_CONNECT_FAILURES")):
            from campaigns.services import CampaignStateError, pause_campaign

            with contextlib.suppress(CampaignStateError):
                pause_campaign(
                    campaign=self.campaign,
                    reason=f"Paused automatically: cannot reach the SMTP server ({message}).",
                )

    def close(self) -> None:
        try:
            self.writer.flush()
        finally:
            sender.release_claim(self.token)
            if self.sent:
                with contextlib.suppress(redis.RedisError):
                    redis_client().delete(f"postino:campaign:{self.campaign.pk}:connect-failures")
            self.clock.publish()
