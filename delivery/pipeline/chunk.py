"""One chunk of a campaign, through every stage of the pipeline:

claim (``claim``) → prepare: render, MIME, sign (``prepare``) → gate: rates,
quotas, domain limits, stop (``gate``) → transmit: many messages in flight
over the channel's lanes (``transmit``, ``channel``) → record: ledger,
journal, bounce log (``record``), with the circuit breakers (``breaker``)
watching, and ``scheduling`` deciding when the next chunk runs. The gate is
asked for the next few recipients at once, before they are prepared, so one
Redis round trip admits a batch and each message is rendered just before
it goes.

The chunk's own thread does every stage but transmit, so the CPU work of the
next messages overlaps the network time of those in flight.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import time
import uuid
from collections import defaultdict, deque
from typing import Any

import redis
from django.conf import settings

from campaigns.models import Campaign
from campaigns.rendering import TemplateValidationError
from campaigns.services import pause_campaign
from delivery.mime import ascii_address
from delivery.models import Delivery, SmtpServer
from delivery.pipeline import breaker, gate, scheduling
from delivery.pipeline.channel import open_channel
from delivery.pipeline.claim import claim_chunk, claimed_rows, release_claim, renew_lease
from delivery.pipeline.prepare import MessageFactory
from delivery.pipeline.record import Recorder
from delivery.pipeline.slots import FairShare, bulk_connection_cap
from delivery.pipeline.transmit import Done, Job, LaneFailed, Transmitter
from delivery.pipeline.types import ChannelError, NoConnectionSlot, PreparedMessage, Stage
from postino import jobs
from postino.redis import redis_client

log = logging.getLogger(__name__)

STAGES_KEY = "postino:stats:stages"
# A recipient whose domain is at its limit for at most this long waits in the
# chunk; longer, and the row is deferred in the ledger.
SHORT_DOMAIN_WAIT = 2.0
# How long a chunk keeps trying for a connection slot another worker holds
# before it gives its rows back.
SLOT_WAIT_SECONDS = 5.0
# Each message is granted a turn of the server's rate at most this far ahead
# (ADMIT_BATCH per gate round trip): at a high rate that saves a Redis round
# trip per message; at a low one the gate admits one at a time. A pause
# therefore lets through at most ADMIT_BATCH more messages per chunk, all
# within a few milliseconds.
ADMIT_HORIZON_MS = 5.0

Built = tuple[PreparedMessage, bytes | None]


def _conf(name: str) -> Any:
    return settings.POSTINO[name]


class StageClock:
    """Where a chunk's thread spends its time, per stage; published per chunk."""

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


def run_chunk(campaign_id: int) -> int:
    """Claim one chunk and send it. Returns the number of messages accepted."""
    campaign = scheduling.load_campaign(campaign_id)
    if campaign is None or campaign.status != Campaign.Status.RUNNING:
        return 0
    candidates = scheduling.campaign_servers(campaign)
    if not candidates:
        pause_campaign(campaign=campaign, reason="No SMTP server is set for this campaign.")
        return 0
    server, wait = scheduling.choose_server(candidates)
    if server is None:
        # Every server is down or out of quota; tick re-dispatches later.
        scheduling.clear_active(campaign_id)
        log.info("campaign %s: no SMTP server available for %.0fs", campaign_id, wait)
        return 0
    token = claim_chunk(campaign_id, scheduling.chunk_size(server))
    if token is None:
        if not scheduling.maybe_finish(campaign_id) and scheduling.continue_soon(campaign_id):
            return 0
        scheduling.clear_active(campaign_id)
        return 0
    scheduling.mark_active(campaign_id)
    run = ChunkRun(campaign, server, token, multiple_servers=len(candidates) > 1)
    try:
        run.send()
    finally:
        run.close()
    if run.continue_campaign and scheduling.still_running(campaign_id):
        jobs.send_chunk(campaign_id)
    else:
        scheduling.maybe_finish(campaign_id)
    return run.sent


class ChunkRun:
    def __init__(
        self, campaign: Campaign, server: SmtpServer, token: uuid.UUID, *, multiple_servers: bool
    ) -> None:
        self.campaign = campaign
        self.server = server
        self.token = token
        self.multiple_servers = multiple_servers
        self.recorder = Recorder(campaign, server.pk, token)
        self.clock = StageClock()
        self.continue_campaign = True
        self._max_errors, _ = breaker.error_limits(campaign)
        # Outcomes answered since the last gate call: (JSON, delivery id).
        self._journal: list[tuple[str, str]] = []
        self._give_back_after: float | None = None
        self._channel_failed = False
        self._quota_spent = False
        self._stopping = False
        self._degraded = False
        self._gate: gate.Gate | None = None

    @property
    def sent(self) -> int:
        return self.recorder.sent

    # The loop ---------------------------------------------------------------------

    def send(self) -> None:
        rows, suppressed = claimed_rows(self.token)
        for row, reason in suppressed:
            # Suppressed since the audience was snapshotted: not sent, and not
            # counted as an attempt.
            self.recorder.failed(row, f"suppressed: {reason}", attempted=False)
        self.clock.lap("audience")
        if not rows:
            self._flush()
            return
        factory = MessageFactory(self.campaign)
        share = FairShare(
            self.server.pk, bulk_connection_cap(self.server.max_connections), str(self.token),
            # Refreshed at every status check: a dead chunk stops counting soon.
            ttl_ms=int(max(5.0, float(_conf("STATUS_CHECK_SECONDS")) * 5) * 1000),
        )  # fmt: skip
        self._gate = gate.Gate(
            gate.ServerLimits.for_server(self.server),
            claim=self.token,
            campaign_id=self.campaign.pk,
            share_key=share.key,
        )
        channel = open_channel(self.server, campaign_id=self.campaign.pk, bulk=True)
        transmitter = Transmitter(channel, max_lanes=share.share())
        self.clock.lap("setup")
        try:
            self._loop(rows, factory, channel.wants_bytes, transmitter, share)
        finally:
            transmitter.close(timeout=float(_conf("SMTP_TIMEOUT")) + 5)
            share.leave()
            channel.close()
            # Whatever the lanes answered while closing is recorded too.
            for event in transmitter.collect():
                self._finished(event, transmitter)
            self._flush()
            self.clock.lap("ledger")
        if not (self._channel_failed or self._quota_spent):
            breaker.mark_server_up(self.server.pk)

    def _loop(
        self,
        rows: list[Delivery],
        factory: MessageFactory,
        wants_bytes: bool,
        transmitter: Transmitter,
        share: FairShare,
    ) -> None:
        status_every = float(_conf("STATUS_CHECK_SECONDS"))
        renew_every = max(1.0, int(_conf("LEASE_SECONDS")) / 3)
        next_status_check = time.monotonic() + status_every
        next_renewal = time.monotonic() + renew_every
        queue: deque[Delivery] = deque(rows)
        # Recipients whose domain is briefly at its limit wait here (until,
        # id, row) while the chunk goes on with other domains.
        waiting: list[tuple[float, int, Delivery]] = []
        # Rows the gate let through, each with the moment it may go. Every
        # message is rendered only once admitted, just before it goes.
        admitted: deque[tuple[Delivery, float]] = deque()
        slot_wait_until = 0.0
        pace_until = 0.0
        while True:
            for event in transmitter.collect():
                self._finished(event, transmitter)
            now = time.monotonic()
            if now >= next_status_check:
                next_status_check = now + status_every
                if not scheduling.still_running(self.campaign.pk):
                    self._stop()
                else:
                    scheduling.mark_active(self.campaign.pk)
                    transmitter.resize(share.share())
            if now >= next_renewal:
                next_renewal = now + renew_every
                renew_lease(self.token)
            self.clock.lap("control")

            if transmitter.stranded():
                failure = transmitter.last_failure
                if self._stopping:
                    for job in transmitter.take_back():
                        self._untrack(job)
                    continue
                if isinstance(failure, NoConnectionSlot):
                    # Another worker holds every slot: wait a little for one.
                    if not slot_wait_until:
                        slot_wait_until = now + SLOT_WAIT_SECONDS
                    if now < slot_wait_until:
                        transmitter.retry_lanes()
                        self._wait_for_lanes(transmitter, 0.05)
                        continue
                for job in transmitter.take_back():
                    # Passed the gate but never sent: given back with the rest.
                    self._untrack(job)
                self._connection_failed(
                    failure or ChannelError(Stage.SMTP, "no connection could be opened")
                )
                continue
            if self._stopping or not (queue or waiting or admitted):
                if admitted:
                    # Passed the gate, never sent: given back with the rest.
                    self._untrack_rows([row for row, _ in admitted])
                    admitted.clear()
                if transmitter.in_flight == 0:
                    return
                self._wait_for_lanes(transmitter, 0.2)
                continue
            slot_wait_until = 0.0
            if not transmitter.room():
                self._wait_for_lanes(transmitter, 0.05)
                continue

            if self._degraded:
                row = self._next_row(queue, waiting)
                if row is None:
                    self._wait_for_lanes(transmitter, max(0.001, waiting[0][0] - time.monotonic()))
                    continue
                built = self._build(row, factory, wants_bytes)
                if built is None:
                    continue
                # Without Redis: pace this process alone, write outcomes at once.
                delay = pace_until - time.monotonic()
                if delay > 0:
                    self._wait_for_lanes(transmitter, delay)
                pace_until = time.monotonic() + 1.0 / self.server.messages_per_second
                transmitter.submit(Job(row, *built))
                continue

            if not admitted:
                if self._quota_spent:
                    self._stopping = True
                else:
                    self._admit(queue, waiting, admitted, transmitter, share)
                continue

            row, not_before = admitted[0]
            delay = not_before - time.monotonic()
            if delay > 0.0005:
                # A turn of the server's rate granted slightly ahead.
                self._wait_for_lanes(transmitter, delay, stage="throttled")
                continue
            admitted.popleft()
            built = self._build(row, factory, wants_bytes)
            if built is None:
                self._untrack_rows([row])
                continue
            transmitter.submit(Job(row, *built))
            self.clock.lap("transmit")  # the send itself, when sent inline

    def _admit(
        self,
        queue: deque[Delivery],
        waiting: list[tuple[float, int, Delivery]],
        admitted: deque[tuple[Delivery, float]],
        transmitter: Transmitter,
        share: FairShare,
    ) -> None:
        """Ask the gate about the next recipients in line, in one round trip."""
        asked: list[Delivery] = []
        while len(asked) < gate.ADMIT_BATCH:
            row = self._next_row(queue, waiting)
            if row is None:
                break
            asked.append(row)
        if not asked:
            # Only rows waiting for their domain remain: wait for the first.
            self._wait_for_lanes(transmitter, max(0.001, waiting[0][0] - time.monotonic()))
            return
        try:
            results = self._ask_gate(asked)
        except redis.RedisError as exc:
            log.warning("chunk %s: Redis unavailable (%s); degraded mode", self.token, exc)
            self._degraded = True
            self._journal = []
            queue.extendleft(reversed(asked))
            return
        self.clock.lap("gate")
        if self._gate is not None and self._gate.sharing_chunks:
            lanes = share.share_among(self._gate.sharing_chunks)
            if lanes != transmitter.max_lanes:
                transmitter.resize(lanes)
        throttled = self._sort_answers(asked, results, queue, waiting, admitted)
        if throttled and not admitted:
            self._wait_for_lanes(transmitter, throttled, stage="throttled")

    def _build(self, row: Delivery, factory: MessageFactory, wants_bytes: bool) -> Built | None:
        """Render, build and sign one recipient's message (None: failed)."""
        built: Built | None
        try:
            prepared = factory.prepare(
                subscriber=row.subscriber, delivery_id=row.pk, variant=row.variant
            )
            built = (prepared, factory.as_bytes(prepared) if wants_bytes else None)
        except TemplateValidationError as exc:
            # Validated on save and start; a runtime error specific to
            # one subscriber's data fails that row only.
            self.recorder.failed(row, f"template error: {exc}", attempted=True)
            built = None
        self.clock.lap("render")
        return built

    def _sort_answers(
        self,
        asked: list[Delivery],
        results: list[gate.GateResult],
        queue: deque[Delivery],
        waiting: list[tuple[float, int, Delivery]],
        admitted: deque[tuple[Delivery, float]],
    ) -> float:
        """Act on the gate's answers; returns how long to wait when the
        server's rate holds everything back (0 otherwise)."""
        now = time.monotonic()
        unasked = asked[len(results) :]
        throttled = 0.0
        for row, result in zip(asked, results, strict=False):
            if result.verdict is gate.Verdict.OK:
                admitted.append((row, now + result.wait_ms / 1000.0))
            elif result.verdict is gate.Verdict.DOMAIN:
                seconds = result.wait_ms / 1000.0 + 0.01
                if seconds <= SHORT_DOMAIN_WAIT:
                    heapq.heappush(waiting, (now + seconds, row.pk, row))
                else:
                    reason = f"deferred: {self._domain(row)} is at its sending limit"
                    self.recorder.deferred(row, seconds, reason)
            elif result.verdict is gate.Verdict.WAIT:
                unasked.insert(0, row)
                throttled = result.wait_ms / 1000.0
            elif result.verdict is gate.Verdict.QUOTA:
                unasked.insert(0, row)
                seconds = result.wait_ms / 1000.0
                breaker.mark_server_exhausted(self.server.pk, result.wait_ms)
                breaker.record_event(
                    "quota", f"server {self.server.name}: quota spent for {seconds:.0f}s"
                )
                self._give_back_after = None if self.multiple_servers else seconds
                # Those admitted before it still go; then the chunk stops.
                self._quota_spent = True
            else:  # STOP: paused or cancelled; the rest of the claim goes back
                unasked.insert(0, row)
                if self._stop_is_current():
                    self._stop()
        queue.extendleft(reversed(unasked))
        return throttled

    @staticmethod
    def _domain(row: Delivery) -> str:
        # Domain limits are stored in IDNA form, as the address is sent.
        return ascii_address(row.subscriber.email).rpartition("@")[2].lower()

    def _ask_gate(self, asked: list[Delivery]) -> list[gate.GateResult]:
        assert self._gate is not None
        results = self._gate.admit(
            [(self._domain(row), str(row.pk)) for row in asked],
            journal=self._journal,
            horizon_ms=ADMIT_HORIZON_MS,
        )
        self._journal = []
        return results

    def _wait_for_lanes(
        self, transmitter: Transmitter, seconds: float, *, stage: str = "transmit"
    ) -> None:
        """Nothing to send now: journal and write what finished, then wait for
        the next answer (or ``seconds``)."""
        self._push_journal()
        if self.recorder.writer.due() and self._flush():
            self._stop()
        self.clock.lap("ledger")
        for event in transmitter.collect(timeout=max(0.0, seconds)):
            self._finished(event, transmitter)
        self.clock.lap(stage)

    def _finished(self, event: Done | LaneFailed, transmitter: Transmitter) -> None:
        if isinstance(event, LaneFailed):
            if isinstance(event.error, ChannelError):
                breaker.record_event("connection", f"server {self.server.name}: {event.error}")
            return
        row = event.job.key
        assert isinstance(row, Delivery)
        if event.result is None:
            # Not attempted: its lane's channel failed (connection could not be
            # reopened, credentials refused). Another lane takes it, if any.
            if transmitter.live > 0 and not self._stopping:
                transmitter.submit(event.job)
                return
            self._untrack(event.job)
            if not self._stopping:
                for job in transmitter.take_back():
                    self._untrack(job)
                assert event.error is not None
                self._connection_failed(event.error)
            return
        outcome = self.recorder.answered(
            row, row.subscriber.email, event.result, event.job.prepared.message_id
        )
        self.clock.messages += 1
        if not self._degraded:
            self._journal.append((outcome.to_json(), str(row.pk)))
        # A run of failures long enough to trip the breaker is checked at once
        # rather than at the next periodic flush.
        due = self._degraded or self.recorder.streak >= self._max_errors
        if due and self._flush():
            self._stop()

    def _untrack(self, job: Job) -> None:
        row = job.key
        assert isinstance(row, Delivery)
        self._untrack_rows([row])

    def _untrack_rows(self, rows: list[Delivery]) -> None:
        """Messages that passed the gate but were never sent leave the
        in-flight set (their rows stay claimed and are given back)."""
        if not rows or self._degraded:
            return
        with contextlib.suppress(redis.RedisError):
            redis_client().srem(gate.inflight_key(self.token), *[str(row.pk) for row in rows])

    def _push_journal(self) -> None:
        if self._journal and self._gate is not None and not self._degraded:
            with contextlib.suppress(redis.RedisError):
                self._gate.journal(self._journal)
            self._journal = []

    def _flush(self) -> bool:
        """Journal, then write the buffered outcomes; True when the breaker paused."""
        self._push_journal()
        return self.recorder.flush()

    def _stop(self) -> None:
        self._stopping = True
        self.continue_campaign = False

    def _stop_is_current(self) -> bool:
        """Obey a stop key only while the database agrees the campaign is not
        running: a key left behind (Redis kept it through a resume it missed)
        is dropped instead of wedging the campaign."""
        if not scheduling.still_running(self.campaign.pk):
            return True
        log.warning("campaign %s: stale stop key dropped; still running", self.campaign.pk)
        gate.clear_stop(self.campaign.pk)
        return False

    def _next_row(
        self,
        queue: deque[Delivery],
        waiting: list[tuple[float, int, Delivery]],
    ) -> Delivery | None:
        """A recipient whose domain wait is over, else the next in line; None
        when only waiting ones remain and none is ready yet."""
        if waiting and waiting[0][0] <= time.monotonic():
            return heapq.heappop(waiting)[2]
        if queue:
            return queue.popleft()
        return None

    def _connection_failed(self, exc: Exception) -> None:
        self._stopping = True
        if isinstance(exc, NoConnectionSlot):
            # Busy, not broken: give the rows back for another worker shortly.
            self._give_back_after = 2.0
            return
        self._channel_failed = True
        seconds = breaker.mark_server_down(self.server.pk, str(exc))
        breaker.record_event("connection", f"server {self.server.name}: {exc}")
        log.warning(
            "campaign %s: %s (server out of rotation for %.0fs)", self.campaign.pk, exc, seconds
        )
        # With another server in rotation the rows are free at once; alone,
        # they wait for this one to come back.
        self._give_back_after = None if self.multiple_servers else seconds
        breaker.count_connection_failure(self.campaign, str(exc))

    def close(self) -> None:
        try:
            self.recorder.writer.flush()
            if self._give_back_after:
                self.recorder.give_back(self._give_back_after)
        finally:
            release_claim(self.token)
            if self.sent:
                breaker.reset_connection_failures(self.campaign.pk)
            self.clock.publish()
