"""Django's PostgreSQL backend: a cheaper health check, and prepared statements where asked.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first
query of every request, so a kept connection that PostgreSQL dropped (a
restart, a failover) is replaced instead of failing the request. That
costs a round trip per request: on a transactional send, one of four. A
connection that answered less than ``HEALTH_CHECK_SECONDS`` ago is taken
as alive; a query that fails on it marks it (``errors_occurred``) and
Django checks it before the next request, so a broken connection fails at
most the requests of that second, on that thread.

The ORM binds parameters in the client, so PostgreSQL parses and plans each
query again; for the accept path's few fixed statements (the transactional
send's template, address facts and insert) planning costs more than
running them. ``prepared_cursor`` binds on the server and prepares each
statement once per connection (psycopg keeps the last hundred). The ORM's
own cursors never prepare: ``prepare_threshold`` (settings,
``DATABASE_PREPARED_STATEMENTS``) is set so high that only a statement
executed with ``prepare=True`` is, and None turns them off for a pooler
that cannot keep them.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.utils import CursorWrapper

HEALTH_CHECK_SECONDS = 1.0


class PreparedCursor(psycopg.Cursor[Any]):
    """Parameters bound by the server; each statement prepared on first use
    when the connection allows it (``prepare_threshold`` not None)."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("prepare", True)
        return super().execute(query, params, **kwargs)


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

    def prepared_cursor(self) -> CursorWrapper:
        """A cursor (as ``cursor()`` returns) for a hot path's fixed statements."""
        # Django's own cursor(), with our cursor class: the health check, the
        # connection, and the wrapper that logs queries (DEBUG, query counts).
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor: CursorWrapper = self._prepare_cursor(  # type: ignore[attr-defined]
                PreparedCursor(self.connection)
            )
        return cursor
