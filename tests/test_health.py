"""/healthz: up, degraded (no worker heartbeat) or down (no database or Redis)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from postino import health, worker_heartbeat
from postino.redis import redis_client
from postino.worker_heartbeat import HEARTBEAT_KEY


@pytest.fixture(autouse=True)
def fresh_redis_client() -> Iterator[None]:
    """Each test builds its Redis client from its own settings, and leaves none behind."""
    redis_client.cache_clear()
    yield
    redis_client.cache_clear()


@pytest.fixture
def worker_alive(db: None) -> Iterator[None]:
    redis_client().set(HEARTBEAT_KEY, f"worker-1 {time.time():.0f}", ex=60)
    yield
    redis_client().delete(HEARTBEAT_KEY)


def forget_all_workers() -> None:
    redis_client().delete(HEARTBEAT_KEY)
    for beat in worker_heartbeat.read_heartbeats():
        worker_heartbeat.remove_heartbeat(beat.hostname)


@pytest.fixture
def no_worker(db: None) -> None:
    forget_all_workers()


@pytest.fixture
def only_a_worker_heartbeat(db: None) -> Iterator[None]:
    """A worker's own heartbeat, but beat's heartbeat task has not run."""
    forget_all_workers()
    now = time.time()
    worker_heartbeat.write_heartbeat(
        worker_heartbeat.Heartbeat(
            hostname="celery@w1", pid=1, concurrency=4, started_at=now, last_seen=now
        )
    )
    yield
    forget_all_workers()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get_health() -> tuple[int, dict[str, object]]:
    response = Client().get("/healthz", secure=True)
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json()


def test_all_up_is_200_ok_with_the_three_parts(worker_alive: None) -> None:
    status, body = get_health()
    assert status == 200
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True  # type: ignore[index]
    assert body["redis"]["ok"] is True  # type: ignore[index]
    assert body["workers"]["alive"] is True  # type: ignore[index]
    assert body["workers"]["heartbeat"].startswith("worker-1 ")  # type: ignore[index]


def test_no_worker_heartbeat_is_degraded_but_still_200(no_worker: None) -> None:
    status, body = get_health()
    assert status == 200
    assert body["status"] == "degraded"
    assert body["workers"] == {
        "ok": False,
        "alive": False,
        "count": 0,
        "latency_ms": pytest.approx(0, abs=1e3),
    }


def test_a_worker_heartbeat_alone_is_ok_and_counted(only_a_worker_heartbeat: None) -> None:
    status, body = get_health()
    assert status == 200
    assert body["status"] == "ok"
    assert body["workers"]["alive"] is True  # type: ignore[index]
    assert body["workers"]["count"] == 1  # type: ignore[index]
    assert "heartbeat" not in body["workers"]  # type: ignore[operator]


def test_redis_down_is_503(db: None, settings: Any) -> None:
    settings.REDIS_URL = f"redis://127.0.0.1:{closed_port()}/0"
    redis_client.cache_clear()
    status, body = get_health()
    assert status == 503
    assert body["status"] == "down"
    assert body["redis"]["ok"] is False  # type: ignore[index]
    assert body["database"]["ok"] is True  # type: ignore[index]


def test_errors_are_named_by_kind_only(db: None, settings: Any) -> None:
    port = closed_port()
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/0"
    redis_client.cache_clear()
    _, body = get_health()
    assert body["redis"]["error"] == "ConnectionError"  # type: ignore[index]
    assert str(port) not in str(body)


def test_the_database_down_is_503(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def unreachable() -> dict[str, object]:
        raise OSError("connection refused")

    monkeypatch.setattr(health, "check_database", unreachable)
    status, body = get_health()
    assert status == 503
    assert body["database"] == {
        "ok": False,
        "error": "OSError",
        "latency_ms": pytest.approx(0, abs=1e3),
    }


def test_a_hanging_check_times_out_fast(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    released = threading.Event()

    def hangs() -> dict[str, object]:
        released.wait(5)
        return {"ok": True}

    monkeypatch.setattr(health, "CHECK_TIMEOUT", 0.2)
    monkeypatch.setattr(health, "check_redis", hangs)
    started = time.monotonic()
    try:
        status, body = get_health()
    finally:
        released.set()
    assert time.monotonic() - started < 1.0
    assert status == 503
    assert body["redis"] == {"ok": False, "error": "timeout"}


def test_health_needs_no_login_and_is_never_cached(worker_alive: None) -> None:
    response = Client().get("/healthz", secure=True)
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
