"""Run an import in a worker: claim it, read the file into staging, apply it in batches.

Reading and applying go side by side, each a sequence of short transactions
that also move the import's checkpoint, so that whatever kills a worker, the
next run continues where the last commits left off and nothing is applied
twice:

* **reading** (this thread): records stream from the file (``read``), each
  becomes a staged row or a problem (``columns``); every
  ``IMPORT_BATCH_ROWS`` rows (50,000) the staged rows, their resolution
  against the database and the rows before them (``apply.resolve_batch``),
  the problems and ``last_row_read`` commit together, and the range is
  handed to the applier.
* **applying** (an applier thread with its own connection): each range goes
  through ``apply.apply_batch`` and commits with its ``ImportBatch`` marker
  and its counts. A resumed run applies the ranges read but without a
  marker first.

The reading is mostly Python's work and the applying PostgreSQL's, so on two
cores the one hides most of the other; the resolving is given to the reader
because that balances the two. On SQLite, or inside a caller's transaction
(whose rows another connection could not see), each range is applied in
this thread right after it is read.

A run holds the import by a token in ``owner``, renewed (with
``heartbeat_at``) at every commit. If a worker dies, ``resume_stalled``
(every half minute, from beat) queues the import again once its heartbeat is
``IMPORT_LEASE_SECONDS`` (60) old, and the new run takes it over; a commit made with a
token that is no longer the owner's fails, so two runs never write at once.
Cancelling is checked before each transaction: the rows applied so far stay,
the batch in progress finishes whole or not at all.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from postino import jobs
from subscribers import leases
from subscribers.imports import apply, read, staging
from subscribers.imports.columns import MappingError, Problem, RowConverter, validate_mapping
from subscribers.models import Import, ImportBatch, ImportProblem
from subscribers.services import request_confirmation

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


def batch_rows() -> int:
    return int(settings.POSTINO["IMPORT_BATCH_ROWS"])


def lease_seconds() -> int:
    return int(settings.POSTINO["IMPORT_LEASE_SECONDS"])


class Cancelled(Exception):
    pass


class LostClaim(Exception):
    """Another run took the import over (this one's heartbeat had lapsed)."""


def file_path(import_run: Import) -> Path:
    return Path(settings.POSTINO["IMPORT_DIR"]) / import_run.stored_name


def claim(import_id: int) -> str | None:
    """Take the import if it is queued, or running with a lapsed heartbeat."""
    return leases.claim(Import, import_id, lease_seconds=lease_seconds())


def run_import(import_id: int) -> None:
    token = claim(import_id)
    if token is None:
        return
    import_run = Import.objects.get(pk=import_id)
    attempts = import_run.attempts + 1
    Import.objects.filter(pk=import_id, owner=token).update(attempts=attempts)
    if attempts > MAX_ATTEMPTS:
        _end(
            import_run,
            token,
            Import.Status.FAILED,
            error=f"stopped after {MAX_ATTEMPTS} "
            f"attempts; the last one failed with: {import_run.error or 'no message'}",
        )
        return
    try:
        _check_staging(import_run, token)
        _read_and_apply(import_run, token)
        _end(
            import_run,
            token,
            Import.Status.CHECKED if import_run.dry_run else Import.Status.FINISHED,
        )
    except Cancelled:
        _end(import_run, token, Import.Status.CANCELLED)
    except LostClaim:
        log.info("import %s was taken over by another run", import_id)
    except (read.UnreadableFile, MappingError, OSError) as exc:
        _end(import_run, token, Import.Status.FAILED, error=str(exc))
    except Exception as exc:
        # Left running: after the lease lapses the import is resumed, at most
        # MAX_ATTEMPTS times. The message is kept for the page and the API.
        Import.objects.filter(pk=import_id, owner=token).update(error=str(exc)[:2000])
        raise


def _check_staging(import_run: Import, token: str) -> None:
    """A resumed run whose staged rows are gone (a PostgreSQL crash empties
    UNLOGGED tables) reads the file again from the first row not applied."""
    if import_run.phase not in (Import.Phase.READING, Import.Phase.APPLYING):
        return
    if staging.count(import_run.pk) == import_run.staged_rows:
        return
    log.warning("import %s: its staged rows are gone; reading the file again", import_run.pk)
    # Batches are applied in order: the first row not applied follows them.
    restart = import_run.last_row_applied
    with transaction.atomic():
        staging.drop(import_run.pk)
        ImportBatch.objects.filter(import_run=import_run, end_row__gt=restart + 1).delete()
        _commit(
            import_run,
            token,
            phase=Import.Phase.READING,
            last_row_read=restart,
            staged_rows=0,
            rows=max(restart - (1 if import_run.dialect.get("has_header", True) else 0), 0),
            skipped=ImportProblem.objects.filter(import_run=import_run, row__lte=restart).count(),
        )


def _check(import_run: Import, token: str) -> None:
    """Raise if the import was cancelled or taken over; before each transaction."""
    state = Import.objects.filter(pk=import_run.pk).values_list("owner", "cancel_requested").first()
    if state is None or state[0] != token:
        raise LostClaim
    if state[1]:
        raise Cancelled


def _commit(import_run: Import, token: str, **fields: Any) -> None:
    """Save checkpoint fields in the caller's transaction, if still the owner."""
    fields["heartbeat_at"] = timezone.now()
    if not Import.objects.filter(pk=import_run.pk, owner=token).update(**fields):
        raise LostClaim
    for name, value in fields.items():
        setattr(import_run, name, value)


def _read_and_apply(import_run: Import, token: str) -> None:
    list_ids = list(import_run.lists.values_list("pk", flat=True))
    side_by_side = connection.vendor == "postgresql" and not connection.in_atomic_block
    applier = _Applier(import_run, token, list_ids, side_by_side=side_by_side)
    reading = import_run.phase in (Import.Phase.WAITING, Import.Phase.READING)
    try:
        if reading:
            _prepare_reading(import_run, token)
        # Rows a run before this one read but did not apply go first.
        for first, end in _pending_batches(import_run):
            applier.add(first, end)
        if reading:
            _read(import_run, token, applier)
            _check(import_run, token)
            with transaction.atomic():
                _commit(
                    import_run,
                    token,
                    phase=Import.Phase.APPLYING,
                    read_at=timezone.now(),
                    bytes_done=import_run.size,
                )
        applier.finish()
    finally:
        applier.stop()
    import_run.refresh_from_db()
    with transaction.atomic():
        _commit(import_run, token, last_row_applied=import_run.last_row_read)


def _prepare_reading(import_run: Import, token: str) -> None:
    """The staging table, without what a run before this one wrote past its
    checkpoint, and the file's dialect."""
    dialect = _stored_dialect(import_run) or read.sniff(file_path(import_run))
    start = import_run.last_row_read
    _check(import_run, token)
    with transaction.atomic():
        staging.create(import_run.pk)
        if start:
            staging.forget_after(import_run.pk, start)
        ImportProblem.objects.filter(import_run=import_run, row__gt=start).delete()
        _commit(
            import_run,
            token,
            phase=Import.Phase.READING,
            dialect={**asdict(dialect), "has_header": import_run.dialect.get("has_header", True)},
        )


def _stored_dialect(import_run: Import) -> read.Dialect | None:
    """How to read the file, as sniffed when it was uploaded (None if it was not)."""
    fields = {k: v for k, v in import_run.dialect.items() if k != "has_header"}
    return read.Dialect(**fields) if fields else None


def _read(import_run: Import, token: str, applier: _Applier) -> None:
    dialect = _stored_dialect(import_run)
    assert dialect is not None  # _prepare_reading stored it
    has_header = bool(import_run.dialect.get("has_header", True))
    converter = RowConverter(validate_mapping(import_run.mapping))
    start = import_run.last_row_read
    reader = read.RecordReader(file_path(import_run), dialect)
    records = reader.records()
    per_batch = batch_rows()
    exhausted = False
    while not exhausted:
        applier.check()
        _check(import_run, token)
        first = max(import_run.last_row_read + 1, 2 if has_header else 1)
        with transaction.atomic(), staging.Writer(import_run.pk) as writer:
            problems: list[ImportProblem] = []
            last = import_run.last_row_read
            count = 0
            for record in records:
                if record.row <= start:
                    continue
                last = record.row
                if record.row == 1 and has_header:
                    continue
                count += 1
                if isinstance(record, read.BrokenRecord):
                    problems.append(
                        _problem(import_run, record.row, record.line, "", "", record.reason)
                    )
                else:
                    converted = converter.convert(record.fields)
                    if isinstance(converted, Problem):
                        problems.append(
                            _problem(
                                import_run,
                                record.row,
                                record.line,
                                converted.column,
                                converted.value,
                                converted.reason,
                            )
                        )
                    else:
                        writer.add(
                            record.row,
                            record.line,
                            converted.email,
                            converted.name,
                            converted.attributes,
                        )
                if count >= per_batch:
                    break
            else:
                exhausted = True
            writer.close()
            if last >= first:
                apply.resolve_batch(import_run.pk, first, last + 1)
            ImportProblem.objects.bulk_create(problems, batch_size=1000)
            # Increments: the applier adds its skipped rows meanwhile.
            if not Import.objects.filter(pk=import_run.pk, owner=token).update(
                rows=F("rows") + count,
                skipped=F("skipped") + len(problems),
                staged_rows=import_run.staged_rows + writer.written,
                last_row_read=last,
                bytes_done=reader.bytes_done,
                heartbeat_at=timezone.now(),
            ):
                raise LostClaim
        import_run.staged_rows += writer.written
        import_run.last_row_read = last
        if last >= first:
            applier.add(first, last + 1)


class _Applier:
    """Applies the ranges handed to it, in order: in a thread of its own with
    its own connection (``side_by_side``), or at once in the caller's.

    A failure in the thread (a lost claim, a cancel, a database error) is
    kept and raised in the reading thread at its next ``check``, or at
    ``finish``. ``stop`` lets the batch in progress end and the thread go.
    """

    def __init__(
        self, import_run: Import, token: str, list_ids: list[int], *, side_by_side: bool
    ) -> None:
        self.import_id = import_run.pk
        self.dry_run = import_run.dry_run
        self.token = token
        self.list_ids = list_ids
        self.side_by_side = side_by_side
        self.ranges: queue.SimpleQueue[tuple[int, int] | None] = queue.SimpleQueue()
        self.failure: BaseException | None = None
        self.stopping = False
        self.thread: threading.Thread | None = None

    def add(self, first: int, end: int) -> None:
        if not self.side_by_side:
            self._apply(first, end)
            return
        if self.thread is None:
            self.thread = threading.Thread(target=self._work, name=f"import-{self.import_id}")
            self.thread.start()
        self.ranges.put((first, end))

    def check(self) -> None:
        if self.failure is not None:
            raise self.failure

    def finish(self) -> None:
        """Wait for every range handed over to be applied."""
        if self.thread is not None:
            self.ranges.put(None)
            self.thread.join()
            self.thread = None
        self.check()

    def stop(self) -> None:
        if self.thread is not None:
            self.stopping = True
            self.ranges.put(None)
            self.thread.join()
            self.thread = None

    def _work(self) -> None:
        try:
            while not self.stopping and (batch := self.ranges.get()) is not None:
                self._apply(*batch)
        except BaseException as exc:
            self.failure = exc
        finally:
            connection.close()  # this thread's own

    def _apply(self, first: int, end: int) -> None:
        if self.dry_run:
            _count_one(self.import_id, self.token, first, end)
        else:
            _apply_one(self.import_id, self.token, self.list_ids, first, end)


def _problem(
    import_run: Import, row: int, line: int, column: str, value: str, reason: str
) -> ImportProblem:
    return ImportProblem(
        import_run=import_run,
        row=row,
        line=line,
        column=column[:200],
        value=value[:200],
        reason=reason[:300],
    )


def _pending_batches(import_run: Import) -> list[tuple[int, int]]:
    """The row ranges still to apply: from the first data row to the last row
    read, in batches, less those whose ImportBatch was committed. Ranges keep
    the boundaries of earlier runs, so a changed IMPORT_BATCH_ROWS never
    applies a row twice."""
    first_data_row = 2 if import_run.dialect.get("has_header", True) else 1
    done = list(
        ImportBatch.objects.filter(import_run=import_run)
        .order_by("first_row")
        .values_list("first_row", "end_row")
    )
    if not done and import_run.last_row_applied >= first_data_row:
        # Applied before batches were recorded: those rows are one done range.
        done = [(first_data_row, import_run.last_row_applied + 1)]
        ImportBatch.objects.create(import_run=import_run, first_row=done[0][0], end_row=done[0][1])
    pending: list[tuple[int, int]] = []
    cursor = first_data_row
    last = import_run.last_row_read
    for first, end in [*done, (last + 1, last + 1)]:
        while cursor < min(first, last + 1):
            stop = min(cursor + batch_rows(), first, last + 1)
            pending.append((cursor, stop))
            cursor = stop
        cursor = max(cursor, end)
    return pending


def _apply_one(import_id: int, token: str, list_ids: list[int], first: int, end: int) -> None:
    """One batch in its own transaction, with its marker and its counts."""
    import_run = Import.objects.get(pk=import_id)
    _check(import_run, token)
    with transaction.atomic():
        _hold_lists(list_ids)
        outcome = apply.apply_batch(
            import_run=import_run,
            first_row=first,
            end_row=end,
            list_ids=list_ids,
            now=timezone.now(),
        )
        _record_batch(
            import_id, token, first, end, outcome.imported, outcome.updated, outcome.skipped
        )
        request_confirmation(subscription_ids=outcome.to_confirm)


def _record_batch(
    import_id: int, token: str, first: int, end: int, new: int, existing: int, skipped: int
) -> None:
    """A batch's marker and counts, in its transaction, if still the owner.
    Increments, not totals: the reader adds its skipped rows meanwhile."""
    ImportBatch.objects.create(import_run_id=import_id, first_row=first, end_row=end)
    if not Import.objects.filter(pk=import_id, owner=token).update(
        imported=F("imported") + new,
        updated=F("updated") + existing,
        skipped=F("skipped") + skipped,
        last_row_applied=Greatest(F("last_row_applied"), end - 1),
        heartbeat_at=timezone.now(),
    ):
        raise LostClaim


def _hold_lists(list_ids: list[int]) -> None:
    if apply.hold_lists(list_ids) < len(list_ids):
        raise MappingError("A list chosen for this import was deleted while it ran.")


def _count_one(import_id: int, token: str, first: int, end: int) -> None:
    """A dry run's batch: counted, with its marker, nothing written."""
    import_run = Import.objects.get(pk=import_id)
    _check(import_run, token)
    with transaction.atomic():
        _record_batch(import_id, token, first, end, *apply.count_batch(import_run, first, end))


def _end(import_run: Import, token: str, status: str, error: str = "") -> None:
    """Leave the import in its final state; the staging table and, unless it is
    only checked (a real import may follow), the file go."""
    fields: dict[str, Any] = {
        "status": status,
        "phase": Import.Phase.DONE,
        "owner": "",
        "cancel_requested": False,
        "finished_at": timezone.now(),
    }
    if error:
        fields["error"] = error[:2000]
    elif status != Import.Status.FAILED:
        fields["error"] = ""
    with transaction.atomic():
        staging.drop(import_run.pk)
        if not Import.objects.filter(pk=import_run.pk, owner=token).update(**fields):
            raise LostClaim
    for name, value in fields.items():
        setattr(import_run, name, value)
    if status != Import.Status.CHECKED:
        file_path(import_run).unlink(missing_ok=True)


# Uploads nobody started (or only checked) are let go after this long: the
# files hold personal data and take disk space.
ABANDONED_AFTER = timedelta(days=1)


def forget_abandoned() -> int:
    """Delete drafts a day old with their files; a day-old dry run ends as cancelled."""
    old = timezone.now() - ABANDONED_AFTER
    count = 0
    for import_run in Import.objects.filter(
        status__in=[Import.Status.DRAFT, Import.Status.CHECKED], updated_at__lt=old
    ):
        file_path(import_run).unlink(missing_ok=True)
        if import_run.status == Import.Status.DRAFT:
            import_run.delete()
        else:
            Import.objects.filter(pk=import_run.pk, status=Import.Status.CHECKED).update(
                status=Import.Status.CANCELLED, updated_at=timezone.now()
            )
        count += 1
    return count


def resume_stalled() -> list[int]:
    """Queue again the imports whose run died (or whose message was lost)."""
    ids = leases.stalled(Import, lease_seconds=lease_seconds(), queued_since="updated_at")
    for import_id in ids:
        log.warning("import %s: its run stopped committing; queued again", import_id)
        jobs.run_import(import_id)
    return ids
