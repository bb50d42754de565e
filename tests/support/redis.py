"""Guards for tests that empty a Redis database."""

from __future__ import annotations

from django.conf import settings


def assert_redis_is_disposable() -> None:
    """Never flush database 0, where a developer's own Postino keeps its state;
    the suite runs on another one (``make test`` uses 14)."""
    url = settings.REDIS_URL.rstrip("/")
    assert not url.endswith(("/0", ":6379")), f"refusing to flush {url}"
