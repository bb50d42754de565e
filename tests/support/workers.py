"""Real Celery worker (and beat) processes for tests about workers.

They run against the test database that pytest-django created and the test
Redis database, with fast timers so retries and lease expiry happen in seconds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

FAST_TIMERS = {
    "SEND_TICK_SECONDS": "1",
    "SEND_RETRY_BASE_SECONDS": "1",
    "SEND_RETRY_MAX_SECONDS": "2",
    "SEND_STATUS_CHECK_SECONDS": "0.5",
    "SEND_LEASE_SECONDS": "6",
    # A killed worker's connection slots free themselves as its lease expires.
    "SEND_SLOT_TTL_SECONDS": "6",
}


def worker_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    db = connection.settings_dict
    url = dj_database_url.parse(os.environ["DATABASE_URL"])
    database_url = "postgres://{user}@{host}:{port}/{name}".format(
        user=db["USER"] or url["USER"] or "postgres",
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        name=db["NAME"],
    )
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": settings.REDIS_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "BASE_URL": settings.BASE_URL,
            "PYTHONUNBUFFERED": "1",
            **FAST_TIMERS,
        }
    )
    env.update(extra or {})
    return env


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Kill the whole process group (prefork children included)."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def _spawn(name: str, args: list[str], env: dict[str, str], log_dir: Path) -> Process:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
    log_file = log_path.open("wb")
    popen = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "postino", *args],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Process(name=name, popen=popen, log_path=log_path)


def _wait_for(process: Process, marker: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if marker in process.log():
            return
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited early:\n{process.log()[-3000:]}")
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} not ready after {timeout}s:\n{process.log()[-3000:]}")


def start_worker(
    log_dir: Path,
    *,
    concurrency: int = 2,
    env: dict[str, str] | None = None,
    queues: str = "",
) -> Process:
    """A worker on ``queues`` (comma-separated; default: the default queue,
    as a deployment's main worker; ``postino-tx`` for a transactional one)."""
    process = _spawn(
        "worker",
        [
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
            "--without-mingle",
            "--without-gossip",
            *([f"--queues={queues}"] if queues else []),
        ],
        env or worker_environment(),
        log_dir,
    )
    _wait_for(process, "ready.")
    return process


def start_beat(log_dir: Path, *, env: dict[str, str] | None = None) -> Process:
    schedule = log_dir / f"beat-schedule-{uuid.uuid4().hex[:6]}"
    process = _spawn(
        "beat",
        ["beat", "--loglevel=INFO", f"--schedule={schedule}"],
        env or worker_environment(),
        log_dir,
    )
    _wait_for(process, "beat: Starting")
    return process


@contextmanager
def running_workers(
    log_dir: Path, *, concurrency: int = 2, env: dict[str, str] | None = None
) -> Iterator[tuple[Process, Process]]:
    worker = start_worker(log_dir, concurrency=concurrency, env=env)
    beat = start_beat(log_dir, env=env)
    try:
        yield worker, beat
    finally:
        beat.stop()
        worker.stop()
