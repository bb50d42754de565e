"""The last hour's failed and deferred rows are read through their own partial
index (PostgreSQL's plan), not by scanning the ledger's other rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from delivery import ops


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL plan")
@pytest.mark.parametrize("read", [ops.recent_errors, ops.recent_error_domains])
def test_the_errors_are_read_through_the_trouble_index(db: None, read: object) -> None:
    with CaptureQueriesContext(connection) as queries:
        read()  # type: ignore[operator]
    with connection.cursor() as cursor:
        # On a near-empty table a scan is cheapest; the plan's shape is what counts.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + queries.captured_queries[0]["sql"])
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "delivery_trouble_idx" in plan, plan
