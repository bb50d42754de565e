"""A per-IP limit on form submissions, counted in Redis so every web process
shares it: a fixed window, reset every ``SIGNUP_RATE_WINDOW_SECONDS``."""

from __future__ import annotations

import time

from django.conf import settings

from postino.redis import redis_client

_PREFIX = "postino:signup:ip:"


def allow(ip: str | None, *, now: float | None = None) -> bool:
    """Count this submission; False once the IP used up its window."""
    if not ip:
        return True
    window = int(settings.POSTINO["SIGNUP_RATE_WINDOW_SECONDS"])
    limit = int(settings.POSTINO["SIGNUP_RATE_PER_IP"])
    bucket = int((time.time() if now is None else now) // window)
    key = f"{_PREFIX}{ip}:{bucket}"
    client = redis_client()
    with client.pipeline() as pipe:
        pipe.incr(key)
        pipe.expire(key, window)
        count, _ = pipe.execute()
    return int(count) <= limit
