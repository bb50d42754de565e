"""Exports in the background: a list's or a segment's subscribers written to a
CSV file by a worker, with live progress, then downloaded from disk.

The browser's own download of a streamed CSV (``selectors.export_list``)
shows no progress a person can read for a million rows; this shows rows
written, rate and time left, and the file stays for ``EXPORT_KEEP_DAYS``.
A run writes to a ``.part`` file and renames it when done; a worker killed
mid-way leaves the export to be started over by the next run (``resume``):
an export changes nothing, so doing it again is safe.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from postino import jobs
from postino.actors import signed_in
from subscribers import leases
from subscribers.models import Export, MailingList, Segment, Subscription
from subscribers.segments import selectors as segment_selectors
from subscribers.selectors import export_list

log = logging.getLogger(__name__)

# Progress is written at most this often (seconds), not per chunk of rows.
PROGRESS_EVERY = 0.5


class ExportNotReady(Exception):
    """The export has not finished (or its file is gone)."""


def export_dir() -> Path:
    return Path(settings.POSTINO["EXPORT_DIR"])


def lease_seconds() -> int:
    return int(settings.POSTINO["IMPORT_LEASE_SECONDS"])


def start_export(
    *, mailing_list: MailingList | None = None, segment: Segment | None = None, actor: Any = None
) -> Export:
    assert (mailing_list is None) != (segment is None), "a list or a segment"
    if mailing_list is not None:
        total = Subscription.objects.filter(mailing_list=mailing_list).count()
        label = f"list “{mailing_list.name}”"
    else:
        assert segment is not None
        total = segment_selectors.count_segment(segment)
        label = f"segment “{segment.name}”"
    export = Export.objects.create(
        mailing_list=mailing_list,
        segment=segment,
        label=label,
        rows_total=total,
        created_by=signed_in(actor),
    )
    jobs.run_export(export.pk)
    return export


def _rows(export: Export, on_rows: Any) -> Iterator[str]:
    if export.mailing_list is not None:
        return export_list(export.mailing_list, on_rows=on_rows)
    if export.segment is not None:
        return segment_selectors.export_segment(export.segment, on_rows=on_rows)
    raise ExportNotReady("its list or segment was deleted")


def run_export(export_id: int) -> None:
    # A run starts the file over: its progress and start time with it.
    token = leases.claim(
        Export, export_id, lease_seconds=lease_seconds(), restarts=True, rows_done=0
    )
    if token is None:
        return
    export = Export.objects.select_related("mailing_list", "segment").get(pk=export_id)
    directory = export_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"export-{export.pk}-{uuid.uuid4().hex[:8]}.csv"
    part = directory / f"{name}.part"
    written = 0
    last_report = timezone.now()

    def on_rows(count: int) -> None:
        nonlocal written, last_report
        written += count
        now = timezone.now()
        if (now - last_report).total_seconds() >= PROGRESS_EVERY:
            last_report = now
            Export.objects.filter(pk=export_id, owner=token).update(
                rows_done=written, heartbeat_at=now
            )

    try:
        with part.open("w", encoding="utf-8", newline="") as out:
            for chunk in _rows(export, on_rows):
                out.write(chunk)
        size = part.stat().st_size
        os.replace(part, directory / name)
    except Exception as exc:
        log.exception("export %s failed", export_id)
        part.unlink(missing_ok=True)
        Export.objects.filter(pk=export_id, owner=token).update(
            status=Export.Status.FAILED,
            error=str(exc)[:2000],
            owner="",
            finished_at=timezone.now(),
        )
        return
    Export.objects.filter(pk=export_id, owner=token).update(
        status=Export.Status.FINISHED,
        stored_name=name,
        size=size,
        rows_done=written,
        rows_total=written,
        owner="",
        finished_at=timezone.now(),
    )


def open_file(export: Export) -> Any:
    if export.status != Export.Status.FINISHED or not export.stored_name:
        raise ExportNotReady("the export has not finished")
    path = export_dir() / export.stored_name
    if not path.exists():
        raise ExportNotReady("the file was removed; export again")
    return path.open("rb")


def resume() -> list[int]:
    """Requeue exports whose run stopped renewing, and let old files go."""
    now = timezone.now()
    ids = leases.stalled(Export, lease_seconds=lease_seconds(), queued_since="created_at")
    for export_id in ids:
        jobs.run_export(export_id)
    keep = now - timedelta(days=int(settings.POSTINO["EXPORT_KEEP_DAYS"]))
    for old in Export.objects.filter(finished_at__lt=keep).exclude(stored_name=""):
        (export_dir() / old.stored_name).unlink(missing_ok=True)
        Export.objects.filter(pk=old.pk).update(stored_name="")
    return ids
