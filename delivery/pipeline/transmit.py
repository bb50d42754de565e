"""Transmit: keep many messages in flight over a channel's lanes.

The chunk (one thread: prepare, gate, record) hands each message that passed
the gate to ``Transmitter.submit`` and collects answers with ``collect``.
Lanes are threads, each owning one connection (or ESP API session) and
sending one message at a time over it, so a process keeps as many messages
on the wire as it has lanes while its main thread renders, builds and signs
the next ones: CPU work never waits behind a round trip, and a round trip
never waits behind CPU work of more than one message.

Lanes open on demand: a submitted message that finds no idle lane starts a
new one (connecting in its own thread), up to ``max_lanes``, the chunk's fair
share of the server's ``max_connections`` (``delivery.pipeline.slots``). A
lane that cannot open does not fail the chunk while other lanes carry on;
a lane whose connection breaks retries only its own message.

Lanes never touch the database: every outcome goes back to the chunk's
thread, which records it. That keeps one database connection per process
however many connections it holds to mail servers.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from delivery.pipeline.channel import Channel, Lane
from delivery.pipeline.types import (
    ChannelError,
    NoConnectionSlot,
    PreparedMessage,
    SendResult,
    Stage,
)

log = logging.getLogger(__name__)

# Messages kept ready beyond those on the wire, so a lane that finishes finds
# its next message already built.
LOOKAHEAD = 2
# After a lane could not get a slot, wait this long before trying another.
SLOT_RETRY_SECONDS = 0.25
# An idle lane wakes this often to keep its shared slot alive.
IDLE_KEEPALIVE_SECONDS = 10.0
# A server that answers a message faster than this (2 round trips of at most
# 2.5 ms: a relay on the same
# machine or a near network) gains nothing from lanes in threads: each hand-over
# costs the interpreter lock twice, more than the round trip itself. The
# chunk's own thread then sends, one message at a time. Decided per process
# and server from the fastest send of the previous chunk.
INLINE_BELOW_SECONDS = 0.005
INLINE_SAMPLE = 20
_send_inline: dict[str, bool] = {}


def sends_inline(identity: str) -> bool | None:
    """What the previous chunk decided for this server (None: not measured yet)."""
    return _send_inline.get(identity)


def forget_speeds() -> None:
    """Measure every server afresh (between tests)."""
    _send_inline.clear()


@dataclass(slots=True)
class Job:
    key: Hashable  # the caller's handle on the message (a ledger row, an index)
    prepared: PreparedMessage
    payload: bytes | None


@dataclass(slots=True)
class Done:
    """A job's end: the server's answer, or why it could not be attempted."""

    job: Job
    result: SendResult | None
    error: Exception | None = None


@dataclass(slots=True)
class LaneFailed:
    """A lane could not open (no slot free, or the server refused)."""

    error: Exception


class _Retire:
    """Put on the job queue: the lane that takes it closes. ``keep``: its
    connection goes back to the pool (the chunk is done) rather than being
    closed (the chunk's share shrank, so the slot must go to another worker)."""

    def __init__(self, *, keep: bool) -> None:
        self.keep = keep


_DONE = _Retire(keep=True)
_SHRINK = _Retire(keep=False)


class Transmitter:
    def __init__(self, channel: Channel, *, max_lanes: int) -> None:
        self.channel = channel
        self.inline = _send_inline.get(channel.identity, False)
        self._inline_lane: Lane | None = None
        self._fastest = float("inf")
        self._sends = 0
        self.max_lanes = max(1, max_lanes)
        self._jobs: queue.SimpleQueue[Job | _Retire] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[Done | LaneFailed] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._live = 0  # lanes open or opening
        self._idle = 0  # lanes waiting for a job
        self._retiring = 0  # retire markers queued and not yet taken
        self._next_start = 0.0
        self.in_flight = 0  # submitted and not yet collected (the caller's thread only)
        self.most_lanes = 0
        self.last_failure: Exception | None = None
        self._closed = False
        self._no_new_lanes = False
        channel.release_idle(self.max_lanes)

    # The caller's side ----------------------------------------------------------

    @property
    def live(self) -> int:
        with self._lock:
            return self._live

    def room(self) -> bool:
        """True while another message may be handed over without waiting."""
        if self.inline:
            return self.in_flight < 1 + LOOKAHEAD
        with self._lock:
            lanes = max(1, min(self._live, self.max_lanes))
        return self.in_flight < lanes + LOOKAHEAD

    def submit(self, job: Job) -> None:
        self.in_flight += 1
        if self.inline:
            self._send_here(job)
            return
        self._jobs.put(job)
        self._maybe_start_lane()

    def collect(self, timeout: float = 0.0) -> list[Done | LaneFailed]:
        """What finished, waiting up to ``timeout`` seconds for the first."""
        events: list[Done | LaneFailed] = []
        try:
            first = self._events.get(timeout=timeout) if timeout > 0 else self._events.get_nowait()
        except queue.Empty:
            return events
        events.append(first)
        while True:
            try:
                events.append(self._events.get_nowait())
            except queue.Empty:
                break
        for event in events:
            if isinstance(event, Done):
                self.in_flight -= 1
            if event.error is not None:
                self.last_failure = event.error
        return events

    def stranded(self) -> bool:
        """Messages are waiting and no lane is open or opening to carry them."""
        with self._lock:
            return self.in_flight > 0 and self._live == 0

    def retry_lanes(self) -> None:
        """Try again to open a lane for waiting messages (after a busy slot)."""
        if not self.inline:
            self._maybe_start_lane()
            return
        try:
            job = self._jobs.get_nowait()
        except queue.Empty:
            return
        if isinstance(job, Job):
            self._send_here(job)

    def take_back(self) -> list[Job]:
        """The jobs no lane has taken yet (when none can be opened)."""
        jobs: list[Job] = []
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if isinstance(job, Job):
                jobs.append(job)
            elif job is _SHRINK:
                with self._lock:
                    self._retiring -= 1
        self.in_flight -= len(jobs)
        return jobs

    def resize(self, max_lanes: int) -> None:
        """Follow a changed fair share; surplus lanes close their connections
        after their message, so the freed slots serve the chunks that need them."""
        self.max_lanes = max(1, max_lanes)
        with self._lock:
            surplus = self._live - self._retiring - self.max_lanes
            if surplus > 0:
                self._retiring += surplus
            growth = max(0, self.max_lanes - self._live)
        for _ in range(max(0, surplus)):
            self._jobs.put(_SHRINK)
        # Pooled connections beyond what this chunk may still open would keep
        # their slots from the chunks that need them until the reaper.
        self.channel.release_idle(growth)

    def close(self, *, timeout: float = 60.0) -> None:
        """Close every lane (healthy connections return to the pool)."""
        self._closed = True
        self._close_here(keep=True)
        if self._sends >= INLINE_SAMPLE:
            _send_inline[self.channel.identity] = self._fastest < INLINE_BELOW_SECONDS
        with self._lock:
            threads = list(self._threads)
        for _ in threads:
            self._jobs.put(_DONE)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # Sending from the caller's thread ----------------------------------------------

    def _send_here(self, job: Job) -> None:
        lane = self._inline_lane
        if lane is None:
            if time.monotonic() < self._next_start:
                self._jobs.put(job)  # waits for retry_lanes, or take_back
                return
            try:
                lane = self.channel.open_lane()
            except Exception as exc:
                self._jobs.put(job)
                failure = exc if isinstance(exc, ChannelError | NoConnectionSlot) else None
                if isinstance(exc, NoConnectionSlot):
                    self._next_start = time.monotonic() + SLOT_RETRY_SECONDS
                self._events.put(LaneFailed(failure or _unexpected(exc)))
                return
            self._inline_lane = lane
            with self._lock:
                self._live += 1
                self.most_lanes = max(self.most_lanes, self._live)
        started = time.perf_counter()
        try:
            result = lane.send(job.prepared, job.payload)
        except Exception as exc:
            self._close_here(keep=False)
            failure = exc if isinstance(exc, ChannelError | NoConnectionSlot) else None
            self._events.put(Done(job, None, failure or _unexpected(exc)))
            return
        self._timed(time.perf_counter() - started)
        self._events.put(Done(job, result))

    def _close_here(self, *, keep: bool) -> None:
        lane, self._inline_lane = self._inline_lane, None
        if lane is None:
            return
        try:
            lane.close(keep=keep)
        finally:
            with self._lock:
                self._live -= 1

    def _timed(self, seconds: float) -> None:
        with self._lock:
            self._sends += 1
            self._fastest = min(self._fastest, seconds)

    # Lanes ------------------------------------------------------------------------

    def _maybe_start_lane(self) -> None:
        with self._lock:
            if self._closed or self._no_new_lanes or self._idle > 0:
                return
            if self._live - self._retiring >= self.max_lanes:
                return
            if time.monotonic() < self._next_start:
                return
            self._live += 1
            self.most_lanes = max(self.most_lanes, self._live)
        thread = threading.Thread(target=self._lane_main, name="postino-lane", daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _lane_main(self) -> None:
        try:
            lane = self.channel.open_lane()
        except (ChannelError, NoConnectionSlot) as exc:
            self._lane_ended(busy=isinstance(exc, NoConnectionSlot))
            self._events.put(LaneFailed(exc))
            return
        except Exception as exc:  # a bug must not strand the chunk's messages
            log.exception("opening a lane to %s failed", self.channel.label)
            self._lane_ended(busy=False)
            self._events.put(LaneFailed(_unexpected(exc)))
            return
        unsent: Done | None = None
        keep = False
        try:
            unsent, keep = self._carry(lane)
        finally:
            try:
                lane.close(keep=keep)
            finally:
                # Counted out before the caller hears of the unsent job, so it
                # knows whether another lane is left to carry it.
                self._lane_ended(busy=False, broken=unsent is not None)
                if unsent is not None:
                    self._events.put(unsent)

    def _carry(self, lane: Lane) -> tuple[Done | None, bool]:
        """Send jobs until retired. Returns the job it could not send, if any,
        and whether the connection is worth keeping."""
        while True:
            with self._lock:
                self._idle += 1
            try:
                job = self._next_job(lane)
            finally:
                with self._lock:
                    self._idle -= 1
            if isinstance(job, _Retire):
                if job is _SHRINK:
                    with self._lock:
                        self._retiring -= 1
                return None, job.keep
            started = time.perf_counter()
            try:
                result = lane.send(job.prepared, job.payload)
                self._timed(time.perf_counter() - started)
            except (ChannelError, NoConnectionSlot) as exc:
                # The connection broke and could not be reopened, or the ESP
                # refused our credentials: this job was not attempted.
                return Done(job, None, exc), False
            except Exception as exc:
                log.exception("lane to %s failed", self.channel.label)
                return Done(job, None, _unexpected(exc)), False
            self._events.put(Done(job, result))

    def _next_job(self, lane: Lane) -> Job | _Retire:
        while True:
            try:
                job = self._jobs.get(timeout=IDLE_KEEPALIVE_SECONDS)
            except queue.Empty:
                lane.keepalive()
                continue
            if isinstance(job, Job):
                lane.keepalive()
            return job

    def _lane_ended(self, *, busy: bool, broken: bool = False) -> None:
        with self._lock:
            self._live -= 1
            if busy:
                self._next_start = time.monotonic() + SLOT_RETRY_SECONDS
            if broken:
                # A lane whose channel failed under it: open no more lanes, and
                # let the ones left finish (or fail) the work.
                self._no_new_lanes = True


def _unexpected(exc: Exception) -> ChannelError:
    """An error no channel should raise, reported like a broken channel."""
    return ChannelError(Stage.SMTP, f"{exc.__class__.__name__}: {exc}")
