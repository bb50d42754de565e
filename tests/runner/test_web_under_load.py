"""`make run` on PostgreSQL under concurrent API clients: every request answers
2xx and the web server holds a bounded number of database connections.

Threaded runserver with persistent connections once left one PostgreSQL backend
per finished request thread and ran the server out of connections within a
minute (HTTP 500, "too many clients already"). Here the real runner serves a
scratch database of its own while eight clients call the API, and the backends
on that database are counted, by the process that holds them, during and after.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

import tests.runner.test_runner as runner_tests
from tests.runner.test_runner import Runner, needs_proc

CLIENTS = 8
REQUESTS_PER_CLIENT = 25
WEB_CONCURRENCY = 2
WEB_THREADS = 2
# Outside the web server, each of these holds at most one connection: the
# Celery worker's main process and its pool processes (one per CPU), beat,
# the bounce server and the mail catcher.
OTHER_PROCESSES = (os.cpu_count() or 1) + 4

pytestmark = [
    pytest.mark.worker,
    needs_proc,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="counts PostgreSQL backends; needs DATABASE_URL=postgres://...",
    ),
]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def scratch_database() -> Iterator[tuple[str, str]]:
    """A database of its own (so only the runner's processes connect to it),
    dropped afterwards with whatever is still connected. Yields (url, name)."""
    base_url = os.environ["DATABASE_URL"]
    name = f"{urlsplit(base_url).path.lstrip('/')}_webload_{secrets.token_hex(4)}"
    admin_url = _with_database(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(base_url, name), name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _start_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, extra_env: dict[str, str]
) -> Runner:
    # Runner builds a bare environment (no DATABASE_URL, no POSTINO_WEB); add ours to it.
    bare = runner_tests.bare_environment
    monkeypatch.setattr(
        runner_tests,
        "bare_environment",
        lambda *args, **kwargs: {**bare(*args, **kwargs), **extra_env},
    )
    return Runner(tmp_path)


class Backends:
    """Samples ``pg_stat_activity`` for one database from a connection to
    another one (so the sampler is not among what it counts), keeping the
    largest count seen per ``application_name`` (the runner names each child)."""

    def __init__(self, admin_url: str, database: str) -> None:
        self.admin_url = admin_url
        self.database = database
        self.most_web = 0
        self.most_total = 0
        self.seen_names: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample_until_stopped, daemon=True)

    def count(self, conn: psycopg.Connection) -> Counter[str]:
        rows = conn.execute(
            "SELECT application_name, count(*) FROM pg_stat_activity"
            " WHERE datname = %s GROUP BY application_name",
            [self.database],
        ).fetchall()
        counts = Counter({str(name): int(n) for name, n in rows})
        self.most_web = max(self.most_web, counts["postino-web"])
        self.most_total = max(self.most_total, sum(counts.values()))
        self.seen_names.update(counts)
        return counts

    def _sample_until_stopped(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            while not self._stop.is_set():
                self.count(conn)
                self._stop.wait(0.02)

    def __enter__(self) -> Backends:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _call(url: str, token: str, *, body: Mapping[str, object] | None = None) -> int:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="GET" if body is None else "POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return 0  # no answer at all: as much a failure as a 500


def _fire_clients(runner: Runner, token: str) -> list[int]:
    """CLIENTS threads, each making REQUESTS_PER_CLIENT API calls (reads, and
    writes that open transactions); returns every status code."""
    statuses: list[int] = []
    lock = threading.Lock()

    def client(number: int) -> None:
        mine = []
        for i in range(REQUESTS_PER_CLIENT):
            if i % 3 == 0:
                body = {"email": f"load-{number}-{i}@example.com", "name": f"Client {number}"}
                mine.append(_call(runner.url("/api/v1/subscribers"), token, body=body))
            elif i % 3 == 1:
                mine.append(_call(runner.url("/api/v1/subscribers?limit=20"), token))
            else:
                mine.append(_call(runner.url("/api/v1/lists"), token))
        with lock:
            statuses.extend(mine)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "clients did not finish"
    return statuses


def _api_token(runner: Runner) -> str:
    return runner.manage_shell(
        "from django.contrib.auth import get_user_model; from api.services import create_token;"
        "print(create_token(user=get_user_model().objects.get(username='admin'), name='load'))"
    )


@pytest.mark.parametrize(
    ("web", "web_bound"),
    [
        # gunicorn (the default): its fixed thread pool is the bound.
        ("gunicorn", WEB_CONCURRENCY * WEB_THREADS),
        # runserver: a thread per client connection, each closing its database
        # connection after its request. A client can read its answer and open
        # the next connection before the old thread has closed its database
        # connection, so for a moment a client can hold two: twice the clients
        # is the bound (the old setup kept one per dead thread, up to 100).
        ("runserver", 2 * CLIENTS),
    ],
)
def test_concurrent_api_clients_get_answers_without_piling_up_database_connections(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scratch_database: tuple[str, str],
    web: str,
    web_bound: int,
) -> None:
    database_url, database = scratch_database
    env = {
        "DATABASE_URL": database_url,
        "POSTINO_WEB": web,
        "WEB_CONCURRENCY": str(WEB_CONCURRENCY),
        "WEB_THREADS": str(WEB_THREADS),
    }
    runner = _start_runner(tmp_path, monkeypatch, env)
    try:
        runner.wait_until_up(timeout=180)
        token = _api_token(runner)
        admin_url = _with_database(database_url, "postgres")

        with Backends(admin_url, database) as backends:
            statuses = _fire_clients(runner, token)

        assert len(statuses) == CLIENTS * REQUESTS_PER_CLIENT
        failures = Counter(status for status in statuses if not 200 <= status < 300)
        assert failures == Counter(), runner.output[-3000:]
        assert "postino-web" in backends.seen_names, "the web server never touched the database"
        assert backends.most_web <= web_bound
        assert backends.most_total <= web_bound + OTHER_PROCESSES

        # Idle afterwards, the connections kept for reuse stay within the bound.
        with psycopg.connect(admin_url, autocommit=True) as conn:
            after = backends.count(conn)
        assert after["postino-web"] <= web_bound
        assert sum(after.values()) <= web_bound + OTHER_PROCESSES
    finally:
        runner.cleanup()
