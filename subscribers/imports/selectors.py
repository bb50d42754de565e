"""Reads for imports: progress as people see it, and the error report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from subscribers.models import Import, ImportProblem
from subscribers.selectors import Echo, safe_cell

REPORT_PAGE = 2000
REPORT_HEADER = ["row", "line", "column", "value", "reason"]


@dataclass(frozen=True)
class Progress:
    phase: str
    percent: float
    rows_per_second: float | None
    eta_seconds: float | None


def progress(import_run: Import) -> Progress:
    """How far the import is, its speed and what is left.

    Batches are applied while the file is still read, so the bar is half
    the file read (by bytes) and half its rows applied (of the rows the file
    will hold at the rate its bytes give rows so far). The speed is of rows
    applied (or, in a dry run, counted).
    """
    now = timezone.now()
    if import_run.ended:
        return Progress(import_run.get_phase_display(), 100.0, None, None)
    if (
        import_run.phase not in (Import.Phase.READING, Import.Phase.APPLYING)
        or not import_run.started_at
    ):
        return Progress(import_run.get_phase_display(), 0.0, None, None)
    if import_run.phase == Import.Phase.APPLYING:
        read = 1.0
    else:
        read = min(import_run.bytes_done / import_run.size, 1.0) if import_run.size else 0.0
    expected_rows = import_run.last_row_read / read if read > 0 else 0.0
    applied_rows = max(import_run.last_row_applied - 1, 0)
    applied = min(applied_rows / expected_rows, 1.0) if expected_rows else 0.0
    fraction = (read + applied) / 2
    elapsed = (now - import_run.started_at).total_seconds()
    rate = applied_rows / elapsed if elapsed > 0 and applied_rows else None
    remaining = elapsed / fraction - elapsed if fraction > 0 else None
    return Progress(import_run.get_phase_display(), round(100 * fraction, 1), rate, remaining)


def problem_report(import_run: Import) -> Iterator[str]:
    """The error report as CSV lines in row order, read in keyset pages (no OFFSET)."""
    writer = csv.writer(Echo())
    yield writer.writerow(REPORT_HEADER)
    after = Q()
    while True:
        batch = list(
            ImportProblem.objects.filter(after, import_run=import_run)
            .order_by("row", "pk")
            .values_list("pk", "row", "line", "column", "value", "reason")[:REPORT_PAGE]
        )
        if not batch:
            return
        for _pk, row, line, column, value, reason in batch:
            yield writer.writerow([row, line, safe_cell(column), safe_cell(value), reason])
        last_pk, last_row = batch[-1][0], batch[-1][1]
        after = Q(row__gt=last_row) | Q(row=last_row, pk__gt=last_pk)
