"""``/healthz``: is this instance able to work? For load balancers and monitors.

Unauthenticated, so it says only up or down (and how fast), never error
messages, which could carry host names or credentials. Each check runs in its
own thread with a deadline: a black-holed database or Redis must not hang the
probe for the clients' default timeouts (libpq has none; our Redis client 5 s).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from postino.redis import redis_client
from postino.worker_heartbeat import HEARTBEAT_KEY, read_heartbeats

CHECK_TIMEOUT = 2.0
Check = dict[str, Any]


def _with_deadline(check: Callable[[], Check], deadline: float) -> Callable[[], Check]:
    """Run ``check`` in a daemon thread; report a timeout if not done by ``deadline``
    (a ``time.monotonic()`` value shared by all checks of one probe)."""
    result: Check = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome = check()
        except Exception as exc:  # any failure means "not reachable"; say only its kind
            outcome = {"ok": False, "error": type(exc).__name__}
        outcome.setdefault("latency_ms", round((time.monotonic() - started) * 1000, 1))
        result.update(outcome)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def wait() -> Check:
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():  # left to finish in the background; it is a daemon
            return {"ok": False, "error": "timeout"}
        return dict(result)

    return wait


def check_database() -> Check:
    connection = connections["default"]
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # This thread's own connection: close it rather than leak one per probe.
        connection.close()
    return {"ok": True}


def check_redis() -> Check:
    redis_client().ping()
    return {"ok": True}


def check_workers() -> Check:
    """Alive when a worker consumed the beat-scheduled heartbeat task in the
    last minute, or when any worker's own heartbeat is fresh (beat may be down
    while workers are not); ``count`` is the number of workers beating."""
    beat = redis_client().get(HEARTBEAT_KEY)
    count = len(read_heartbeats())
    if beat is None and not count:
        return {"ok": False, "alive": False, "count": 0}
    report: Check = {"ok": True, "alive": True, "count": count}
    if beat is not None:
        report["heartbeat"] = beat.decode() if isinstance(beat, bytes) else str(beat)
    return report


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 "ok" (all up) or "degraded" (no worker heartbeat of either kind); 503 "down" when
    the database or Redis is unreachable."""
    # Started together with one deadline: the whole probe takes at most CHECK_TIMEOUT.
    deadline = time.monotonic() + CHECK_TIMEOUT
    pending = {
        name: _with_deadline(check, deadline)
        for name, check in (
            ("database", check_database),
            ("redis", check_redis),
            ("workers", check_workers),
        )
    }
    report = {name: wait() for name, wait in pending.items()}
    if not (report["database"]["ok"] and report["redis"]["ok"]):
        status, code = "down", 503
    elif not report["workers"]["ok"]:
        status, code = "degraded", 200
    else:
        status, code = "ok", 200
    return JsonResponse({"status": status, **report}, status=code)
