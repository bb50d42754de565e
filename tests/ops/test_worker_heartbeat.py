"""Per-worker heartbeats: the writer, the reader, and the bootstep."""

from __future__ import annotations

import json
import time
from types import SimpleNamespace
from typing import Any

from delivery import ops
from postino import worker_heartbeat
from postino.celery import app
from postino.worker_heartbeat import Heartbeat, WorkerHeartbeat


def beat(hostname: str = "celery@w1", **fields: Any) -> Heartbeat:
    now = time.time()
    values: dict[str, Any] = {
        "hostname": hostname,
        "pid": 4242,
        "concurrency": 8,
        "started_at": now - 3600,
        "last_seen": now,
        "active": 3,
        "reserved": 1,
    }
    values.update(fields)
    return Heartbeat(**values)


def test_a_heartbeat_is_stored_as_json_with_a_one_minute_ttl(ops_redis: Any) -> None:
    worker_heartbeat.write_heartbeat(beat())

    key = "postino:worker:celery@w1"
    stored = json.loads(ops_redis.get(key))
    assert stored["hostname"] == "celery@w1"
    assert (stored["pid"], stored["concurrency"], stored["active"]) == (4242, 8, 3)
    assert 55 < ops_redis.ttl(key) <= 60


def test_live_workers_are_read_back_by_host_name(ops_redis: Any) -> None:
    worker_heartbeat.write_heartbeat(beat("celery@w2"))
    worker_heartbeat.write_heartbeat(beat("celery@w1"))

    workers = ops.workers()

    assert [w.hostname for w in workers] == ["celery@w1", "celery@w2"]
    assert 3599 < workers[0].uptime() <= 3601


def test_a_worker_whose_key_expired_is_forgotten(ops_redis: Any) -> None:
    worker_heartbeat.write_heartbeat(beat("celery@gone"))
    worker_heartbeat.write_heartbeat(beat("celery@here"))
    ops_redis.delete("postino:worker:celery@gone")  # as if its TTL ran out

    assert [w.hostname for w in ops.workers()] == ["celery@here"]
    assert ops_redis.zrange("postino:workers", 0, -1) == [b"celery@here"]


def test_the_bootstep_is_registered_on_the_worker_blueprint() -> None:
    assert WorkerHeartbeat in app.steps["worker"]


def test_the_bootstep_beats_at_start_and_removes_its_key_at_stop(ops_redis: Any) -> None:
    worker = SimpleNamespace(hostname="celery@boot", concurrency=4)
    step = WorkerHeartbeat(worker)

    step.start(worker)
    try:
        (live,) = worker_heartbeat.read_heartbeats()
        assert (live.hostname, live.concurrency, live.active) == ("celery@boot", 4, 0)
    finally:
        step.stop(worker)

    assert worker_heartbeat.read_heartbeats() == []
    assert ops_redis.exists("postino:worker:celery@boot") == 0
