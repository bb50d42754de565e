"""``prepared_cursor()``: the default database's cursor for a hot path's fixed statements.

On PostgreSQL, one that prepares its statements (``postino.postgresql``);
elsewhere (SQLite for ``make run``) the ordinary cursor. Statements use
``%s`` placeholders either way, and every value is a parameter.
"""

from __future__ import annotations

from django.db import connection
from django.db.backends.utils import CursorWrapper


def prepared_cursor() -> CursorWrapper:
    make = getattr(connection, "prepared_cursor", None)
    cursor: CursorWrapper = make() if make is not None else connection.cursor()
    return cursor
