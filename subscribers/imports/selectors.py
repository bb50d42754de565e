"""Reads for imports: progress as people see it, and the error report."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from subscribers.models import Import, ImportProblem
from subscribers.selectors import Echo, safe_cell

# Share of an import's time spent reading the file (the rest is applying),
# measured on the bench's million rows; it only shapes the progress bar.
READ_SHARE = 0.4
REPORT_PAGE = 2000
REPORT_HEADER = ["row", "line", "column", "value", "reason"]


@dataclass(frozen=True)
class Progress:
    phase: str
    percent: float
    rows_per_second: float | None
    eta_seconds: float | None


def progress(import_run: Import) -> Progress:
    """How far the import is, its speed in the current phase and what is left."""
    now = timezone.now()
    if import_run.ended:
        return Progress(import_run.get_phase_display(), 100.0, None, None)
    if import_run.phase == Import.Phase.READING and import_run.started_at:
        done = min(import_run.bytes_done / import_run.size, 1.0) if import_run.size else 0.0
        share = 1.0 if import_run.dry_run else READ_SHARE
        fraction = share * done
        elapsed = (now - import_run.started_at).total_seconds()
        rate = import_run.rows / elapsed if elapsed > 0 and import_run.rows else None
        # The whole run takes about what reading took, over reading's share.
        remaining = elapsed / fraction - elapsed if fraction > 0 else None
    elif import_run.phase == Import.Phase.APPLYING and import_run.read_at:
        span = max(import_run.last_row_read - 1, 1)
        done = min(max(import_run.last_row_applied - 1, 0) / span, 1.0)
        fraction = READ_SHARE + (1 - READ_SHARE) * done
        elapsed = (now - import_run.read_at).total_seconds()
        rate = done * import_run.rows / elapsed if elapsed > 0 and done > 0 else None
        remaining = elapsed / done - elapsed if done > 0 else None
    else:
        return Progress(import_run.get_phase_display(), 0.0, None, None)
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
