"""Per-worker heartbeats: which Celery workers are alive, and how busy.

Each worker's main process writes ``postino:worker:<hostname>`` (JSON: host
name, pid, concurrency, start time, last beat, tasks running and reserved)
every ``INTERVAL`` seconds with a ``TTL``: a worker that dies silently
disappears within a minute, one that stops cleanly deletes its key at once.
Host names are also kept in the sorted set ``postino:workers`` (scored by the
last beat) so readers need no ``SCAN`` over the whole keyspace; members whose
key has expired are pruned when read.

The beat-scheduled heartbeat task stays beside them: it writes
``HEARTBEAT_KEY`` (``record_queue_heartbeat``) from whichever worker consumes
it, which proves that the queue is actually consumed; a live main process
alone does not.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import redis
from celery import bootsteps

from postino.redis import as_text, redis_client

log = logging.getLogger(__name__)

KEY_PREFIX = "postino:worker:"
INDEX_KEY = "postino:workers"
INTERVAL = 10.0
TTL = 60

# Written by the beat-scheduled task (every 15 s) and the delivery tick.
HEARTBEAT_KEY = "postino:worker-heartbeat"
HEARTBEAT_TTL = 60


def record_queue_heartbeat() -> None:
    """A worker took a task off the queue: say so, with its host and the time."""
    redis_client().set(HEARTBEAT_KEY, f"{socket.gethostname()} {time.time():.0f}", ex=HEARTBEAT_TTL)


def worker_key(hostname: str) -> str:
    return f"{KEY_PREFIX}{hostname}"


@dataclass(frozen=True, slots=True)
class Heartbeat:
    hostname: str
    pid: int
    concurrency: int
    started_at: float
    last_seen: float
    active: int | None = None
    reserved: int | None = None

    def age(self, now: float | None = None) -> float:
        """Seconds since the last beat."""
        return max(0.0, (now if now is not None else time.time()) - self.last_seen)

    def uptime(self) -> float:
        """Seconds the worker had been running at its last beat."""
        return max(0.0, self.last_seen - self.started_at)


def write_heartbeat(beat: Heartbeat) -> None:
    """Publish one beat (raises ``redis.RedisError``; the caller decides)."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.set(worker_key(beat.hostname), json.dumps(_as_json(beat)), ex=TTL)
    pipe.zadd(INDEX_KEY, {beat.hostname: beat.last_seen})
    pipe.execute()


def remove_heartbeat(hostname: str) -> None:
    pipe = redis_client().pipeline(transaction=False)
    pipe.delete(worker_key(hostname))
    pipe.zrem(INDEX_KEY, hostname)
    pipe.execute()


def read_heartbeats() -> list[Heartbeat]:
    """The live workers, by host name (two round trips whatever their number)."""
    client = redis_client()
    hostnames = [as_text(name) for name in client.zrange(INDEX_KEY, 0, -1)]
    if not hostnames:
        return []
    values = client.mget([worker_key(name) for name in hostnames])
    beats: list[Heartbeat] = []
    gone: list[str] = []
    for name, raw in zip(hostnames, values, strict=True):
        beat = _parse(raw) if raw is not None else None
        if beat is None:
            gone.append(name)
        else:
            beats.append(beat)
    if gone:
        # Expired without a clean shutdown (killed, machine lost): forget them.
        client.zrem(INDEX_KEY, *gone)
    return sorted(beats, key=lambda beat: beat.hostname)


def _as_json(beat: Heartbeat) -> dict[str, Any]:
    return {
        "hostname": beat.hostname,
        "pid": beat.pid,
        "concurrency": beat.concurrency,
        "started_at": beat.started_at,
        "last_seen": beat.last_seen,
        "active": beat.active,
        "reserved": beat.reserved,
    }


def _parse(raw: bytes | str) -> Heartbeat | None:
    try:
        data = json.loads(raw)
        return Heartbeat(
            hostname=str(data["hostname"]),
            pid=int(data["pid"]),
            concurrency=int(data["concurrency"]),
            started_at=float(data["started_at"]),
            last_seen=float(data["last_seen"]),
            active=_optional_int(data.get("active")),
            reserved=_optional_int(data.get("reserved")),
        )
    except (ValueError, TypeError, KeyError):
        return None


def _optional_int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _request_counts() -> tuple[int | None, int | None]:
    """Tasks running and reserved (prefetched) in this worker, if known."""
    try:
        from celery.worker import state

        return len(state.active_requests), len(state.reserved_requests)
    except Exception:  # an internal of Celery's; the beat matters more than the counts
        return None, None


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Worker bootstep: beat from a daemon thread of the worker's main process.

    A thread rather than the worker's timer, so a slow Redis cannot stall the
    consumer's event loop. Pool children are forked without it.
    """

    requires = ("celery.worker.components:Pool",)

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hostname = ""
        self._started_at = 0.0
        self._concurrency = 0

    def start(self, worker: Any) -> None:
        self._hostname = str(worker.hostname)
        self._concurrency = int(worker.concurrency or 0)
        self._started_at = time.time()
        self._stop.clear()
        self.beat()
        self._thread = threading.Thread(target=self._run, name="postino-heartbeat", daemon=True)
        self._thread.start()

    def stop(self, worker: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._hostname:
            with contextlib.suppress(redis.RedisError):
                remove_heartbeat(self._hostname)

    def terminate(self, worker: Any) -> None:
        # A cold shutdown (second Ctrl-C, SIGQUIT) terminates instead of stopping.
        self.stop(worker)

    def beat(self) -> None:
        active, reserved = _request_counts()
        try:
            write_heartbeat(
                Heartbeat(
                    hostname=self._hostname,
                    pid=os.getpid(),
                    concurrency=self._concurrency,
                    started_at=self._started_at,
                    last_seen=time.time(),
                    active=active,
                    reserved=reserved,
                )
            )
        except redis.RedisError as exc:
            # Redis is away: the key expires and the worker looks gone, which
            # is true enough, since it cannot get tasks either.
            log.warning("worker heartbeat not written: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(INTERVAL):
            self.beat()
