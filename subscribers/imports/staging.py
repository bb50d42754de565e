"""The staging table of one import: every readable row of the file, as typed.

One table per import (``subscribers_import_rows_<id>``), created when reading
starts and dropped when the import ends, so finished imports leave no rows
behind and a million-row file costs one ``DROP``. On PostgreSQL it is
``UNLOGGED`` (no WAL for rows we can read again from the file; it survives a
worker's death, only a database crash empties it, and then the import reads
the file again) and filled with ``COPY``; on SQLite, with batched inserts.

It is indexed by row number and by address (a row repeats an address if an
earlier row holds it), both kept up by the backend taking the ``COPY``,
beside the Python reading. Each batch read is joined with what the database
knows (``apply.resolve_batch``) into a second table, ``..._resolved_<id>``,
in the same commit; ``batch_table`` copies one range of that for the
statements that apply it.
"""

# Every statement here is built from model metadata, an integer import id and
# fixed fragments; values always go as parameters.
# ruff: noqa: S608

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any

from django.db import connection
from psycopg.copy import QueuedLibpqWriter

# Rows written to COPY per write call: large enough that the per-call cost is
# lost in the noise, small enough to keep the buffer a few MiB.
COPY_BUFFER_ROWS = 5_000


def table_name(import_id: int) -> str:
    return f"subscribers_import_rows_{int(import_id)}"


def resolved_name(import_id: int) -> str:
    return f"subscribers_import_resolved_{int(import_id)}"


def quoted(import_id: int) -> str:
    return connection.ops.quote_name(table_name(import_id))


def quoted_resolved(import_id: int) -> str:
    return connection.ops.quote_name(resolved_name(import_id))


def _unlogged() -> str:
    return "UNLOGGED " if connection.vendor == "postgresql" else ""


def create(import_id: int) -> None:
    # On PostgreSQL the attributes arrive as jsonb: the backend parses them
    # while it takes the COPY, beside the Python reading, not while applying.
    attributes = "jsonb" if connection.vendor == "postgresql" else "text"
    name = table_name(import_id)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE {_unlogged()}TABLE IF NOT EXISTS {quoted(import_id)} ("
            "row integer NOT NULL, line integer NOT NULL, email varchar(320) NOT NULL, "
            f"name varchar(200) NULL, attributes {attributes} NOT NULL)"
        )
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {name}_row ON {quoted(import_id)} (row)")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {name}_email ON {quoted(import_id)} (email, row)"
        )
        resolved = resolved_name(import_id)
        cursor.execute(
            f"CREATE {_unlogged()}TABLE IF NOT EXISTS {quoted_resolved(import_id)} ("
            "row integer NOT NULL, line integer NOT NULL, email varchar(320) NOT NULL, "
            f"name varchar(200) NULL, attributes {attributes} NOT NULL, subscriber_id bigint NULL, "
            "subscriber_status varchar(16) NULL, first_row integer NULL, "
            "suppression varchar(32) NULL, blocked boolean NOT NULL, erased boolean NOT NULL)"
        )
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS {resolved}_row ON {quoted_resolved(import_id)} (row)"
        )


def drop(import_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {quoted(import_id)}")
        cursor.execute(f"DROP TABLE IF EXISTS {quoted_resolved(import_id)}")


def exists(import_id: int) -> bool:
    tables = connection.introspection.table_names()
    return table_name(import_id) in tables or resolved_name(import_id) in tables


def count(import_id: int) -> int | None:
    """Rows in the import's staging table; None when it is gone."""
    if table_name(import_id) not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quoted(import_id)}")
        return int(cursor.fetchone()[0])


def forget_after(import_id: int, row: int) -> None:
    """Remove rows past ``row``: what a killed reader wrote but did not commit
    cannot be there, so this only matters after a database crash."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quoted(import_id)} WHERE row > %s", [row])
        cursor.execute(f"DELETE FROM {quoted_resolved(import_id)} WHERE row > %s", [row])


class Writer:
    """Writes staged rows in bulk, in the caller's transaction; use it as a
    context manager (leaving it finishes the writing).

    On PostgreSQL one ``COPY`` spans the whole writer, fed 5,000 rows at a
    time as CSV through the C writer (far faster than psycopg's per-row
    ``write_row``) and sent by psycopg's queued writer thread: the reader
    parses the next rows while the database takes these. An unquoted empty
    field is NULL (a missing name); text never is one, since the converter
    turns an empty name into None and attributes are "{}" at least.
    """

    COLUMNS = "(row, line, email, name, attributes)"

    def __init__(self, import_id: int) -> None:
        self.import_id = import_id
        self.rows: list[tuple[int, int, str, str | None, str]] = []
        self.written = 0
        self._stack = ExitStack()
        self._copy: Any = None

    def __enter__(self) -> Writer:
        if connection.vendor == "postgresql":
            cursor = self._stack.enter_context(connection.cursor()).cursor
            statement = f"COPY {quoted(self.import_id)} {self.COLUMNS} FROM STDIN (FORMAT csv)"
            self._copy = self._stack.enter_context(
                cursor.copy(statement, writer=QueuedLibpqWriter(cursor))
            )
        return self

    def close(self) -> None:
        """Write what is buffered and finish the COPY: the connection is free again."""
        self._flush()
        self._copy = None
        self._stack.close()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if kind is None:
            self.close()
        else:
            self._stack.__exit__(kind, value, traceback)

    def add(self, row: int, line: int, email: str, name: str | None, attributes: str) -> None:
        self.rows.append((row, line, email, name, attributes))
        if len(self.rows) >= COPY_BUFFER_ROWS:
            self._flush()

    def _flush(self) -> None:
        if not self.rows:
            return
        rows, self.rows = self.rows, []
        self.written += len(rows)
        if self._copy is not None:
            buffer = io.StringIO()
            csv.writer(buffer, lineterminator="\n").writerows(rows)
            self._copy.write(buffer.getvalue())
            return
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {quoted(self.import_id)} {self.COLUMNS} VALUES (%s, %s, %s, %s, %s)",
                rows,
            )


@contextmanager
def batch_table(rows_sql: str, params: list[Any]) -> Iterator[str]:
    """A temporary table from a SELECT, dropped afterwards; yields its name."""
    name = "subscribers_import_batch"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
        cursor.execute(f"CREATE TEMPORARY TABLE {name} AS {rows_sql}", params)
        # Fresh statistics, or the planner guesses the batch's size and picks
        # scans of whole tables for the joins that follow. Its row count and a
        # small sample are all those plans need: a tenth of the default.
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL default_statistics_target = 10")
        cursor.execute(f"ANALYZE {name}")
        if connection.vendor == "postgresql":
            cursor.execute("RESET default_statistics_target")
    try:
        yield name
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")
