"""Django's PostgreSQL backend, with its per-request health check done at most once a second.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first
query of every request, so a kept connection that PostgreSQL dropped (a
restart, a failover) is replaced instead of failing the request. That
costs a round trip per request: on a transactional send, one of four. A
connection that answered less than ``HEALTH_CHECK_SECONDS`` ago is taken
as alive; a query that fails on it marks it (``errors_occurred``) and
Django checks it before the next request, so a broken connection fails at
most the requests of that second, on that thread.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base

HEALTH_CHECK_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _checked_at = 0.0
    health_check_done: bool

    def close_if_health_check_failed(self) -> None:
        if self.connection is not None and not self.health_check_done:
            now = time.monotonic()
            if now - self._checked_at < HEALTH_CHECK_SECONDS:
                self.health_check_done = True
                return
            self._checked_at = now
        super().close_if_health_check_failed()

    def connect(self) -> None:
        super().connect()
        # A new connection has just answered.
        self._checked_at = time.monotonic()
