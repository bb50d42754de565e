"""Imports as the browser, the API and ``manage.py import_subscribers`` use them.

An upload is stored and sniffed at once (``store_upload``: a file that is not
CSV is refused there, with the reason), giving a *draft* whose mapping was
guessed from the header and the first rows. ``configure`` changes the mapping
and options; ``start_import`` queues the worker, for a dry run (counts only,
nothing written) or the real thing; ``cancel_import`` stops it between two
transactions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from postino import jobs
from postino.actors import signed_in
from subscribers.imports import read, staging
from subscribers.imports.columns import (
    Converted,
    MappingError,
    RowConverter,
    clean_email,
    suggest_mapping,
    validate_mapping,
)
from subscribers.imports.run import file_path
from subscribers.models import Import, ImportBatch, ImportProblem, MailingList, Subscription

PREVIEW_ROWS = 10
# Rows read to guess the column types and whether the first row is a header.
SAMPLE_ROWS = 50


class ImportStateError(Exception):
    """The import is not in a state that allows this (HTTP 409)."""


@dataclass(frozen=True)
class PreviewRow:
    row: int
    fields: list[str]
    email: str
    name: str | None
    attributes: dict[str, Any]
    problem: str


@dataclass(frozen=True)
class Preview:
    header: list[str]
    rows: list[PreviewRow]


def _sample(path: Path, dialect: read.Dialect, count: int) -> list[read.Record | read.BrokenRecord]:
    records: list[read.Record | read.BrokenRecord] = []
    for record in read.RecordReader(path, dialect).records():
        records.append(record)
        if len(records) >= count:
            break
    return records


def _first_row_is_header(records: Sequence[read.Record | read.BrokenRecord]) -> bool:
    first = next((r for r in records if isinstance(r, read.Record)), None)
    if first is None:
        return False
    # A header names its columns; data has an address in one of them.
    return not any(clean_email(field) for field in first.fields)


def store_upload(
    *,
    source: IO[bytes] | Iterable[bytes],
    name: str,
    actor: Any = None,
    via: str = "admin",
) -> Import:
    """Write the upload into IMPORT_DIR and sniff it: a draft import, or a
    ValidationError on ``file`` saying why the file cannot be read."""
    directory = Path(settings.POSTINO["IMPORT_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}.upload"
    path = directory / stored
    limit = int(settings.POSTINO["IMPORT_MAX_MB"]) * 1024 * 1024
    size = 0
    chunks = source.chunks() if hasattr(source, "chunks") else _chunks(source)
    try:
        with path.open("wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError(
                        {"file": f"The file is larger than {settings.POSTINO['IMPORT_MAX_MB']} MB."}
                    )
                out.write(chunk)
        try:
            dialect = read.sniff(path)
            records = _sample(path, dialect, SAMPLE_ROWS + 1)
        except read.UnreadableFile as exc:
            raise ValidationError({"file": str(exc)}) from exc
        if not records:
            raise ValidationError({"file": "The file holds no rows."})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    has_header = _first_row_is_header(records)
    rows = [r.fields for r in records if isinstance(r, read.Record)]
    header = rows[0] if has_header and rows else None
    sample = rows[1:] if has_header else rows
    user = signed_in(actor)
    return Import.objects.create(
        original_name=Path(name or "upload.csv").name[:255],
        stored_name=stored,
        size=size,
        dialect={**asdict(dialect), "has_header": has_header},
        mapping=suggest_mapping(header, sample),
        created_by=user,
        created_by_name=user.get_username() if user else "",
        via=via,
    )


def _chunks(source: IO[bytes] | Iterable[bytes]) -> Iterator[bytes]:
    if hasattr(source, "read"):
        while chunk := source.read(1024 * 1024):
            yield chunk
    else:
        yield from source


def preview(import_run: Import, *, count: int = PREVIEW_ROWS) -> Preview:
    """The first rows as the import will read them, under its current mapping."""
    dialect = _dialect(import_run)
    has_header = bool(import_run.dialect.get("has_header", True))
    records = _sample(file_path(import_run), dialect, count + 1)
    converter = RowConverter(import_run.mapping) if _mapping_ok(import_run.mapping) else None
    rows: list[PreviewRow] = []
    for record in records:
        if record.row == 1 and has_header:
            continue
        if isinstance(record, read.BrokenRecord):
            rows.append(PreviewRow(record.row, [], "", None, {}, record.reason))
            continue
        if converter is None:
            rows.append(PreviewRow(record.row, record.fields, "", None, {}, ""))
            continue
        converted = converter.convert(record.fields)
        if isinstance(converted, Converted):
            attributes = read_json(converted.attributes)
            rows.append(
                PreviewRow(
                    record.row, record.fields, converted.email, converted.name, attributes, ""
                )
            )
        else:
            problem = (
                f"{converted.column}: {converted.reason}" if converted.column else converted.reason
            )
            rows.append(PreviewRow(record.row, record.fields, "", None, {}, problem))
    return Preview(header=[entry["header"] for entry in import_run.mapping], rows=rows[:count])


def read_json(text: str) -> dict[str, Any]:
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _mapping_ok(mapping: Any) -> bool:
    try:
        validate_mapping(mapping)
    except MappingError:
        return False
    return True


def _dialect(import_run: Import) -> read.Dialect:
    return read.Dialect(**{k: v for k, v in import_run.dialect.items() if k != "has_header"})


def configure(
    *,
    import_run: Import,
    mapping: Any = None,
    has_header: bool | None = None,
    mode: str | None = None,
    overwrite: bool | None = None,
    subscription_status: str | None = None,
    lists: Sequence[MailingList] | None = None,
) -> Import:
    """Change what the import will do; ``None`` keeps a setting. Every problem at once."""
    if import_run.status not in (Import.Status.DRAFT, Import.Status.CHECKED):
        raise ImportStateError(
            f"The import is {import_run.get_status_display().lower()}; it can no longer be changed."
        )
    errors: dict[str, list[str]] = {}
    if mapping is not None:
        try:
            import_run.mapping = validate_mapping(mapping)
        except MappingError as exc:
            errors["mapping"] = [str(exc)]
    if mode is not None:
        if mode not in Import.Mode.values:
            errors["mode"] = [f"Mode must be one of {', '.join(Import.Mode.values)}."]
        else:
            import_run.mode = mode
    if subscription_status is not None:
        if subscription_status not in Subscription.Status.values:
            errors["subscription_status"] = [
                f"Subscription status must be one of {', '.join(Subscription.Status.values)}."
            ]
        else:
            import_run.subscription_status = subscription_status
    if overwrite is not None:
        import_run.overwrite = overwrite
    if has_header is not None:
        import_run.dialect = {**import_run.dialect, "has_header": has_header}
    chosen = list(lists) if lists is not None else list(import_run.lists.all())
    if import_run.mode == Import.Mode.SUBSCRIBE and not chosen and "mode" not in errors:
        errors["lists"] = ["Choose at least one list to subscribe the rows to."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        # A checked import is a draft again once anything changes.
        import_run.status = Import.Status.DRAFT
        import_run.save()
        if lists is not None:
            import_run.lists.set(chosen)
    return import_run


def start_import(*, import_run: Import, dry_run: bool = False) -> Import:
    """Queue the worker: read and apply the file, or with ``dry_run`` only count."""
    try:
        validate_mapping(import_run.mapping)
    except MappingError as exc:
        raise ValidationError({"mapping": [str(exc)]}) from exc
    if import_run.mode == Import.Mode.SUBSCRIBE and not import_run.lists.exists():
        raise ValidationError({"lists": ["Choose at least one list to subscribe the rows to."]})
    now = timezone.now()
    with transaction.atomic():
        started = Import.objects.filter(
            pk=import_run.pk, status__in=[Import.Status.DRAFT, Import.Status.CHECKED]
        ).update(
            status=Import.Status.QUEUED,
            dry_run=dry_run,
            phase=Import.Phase.WAITING,
            cancel_requested=False,
            bytes_done=0,
            rows=0,
            last_row_read=0,
            last_row_applied=0,
            staged_rows=0,
            imported=0,
            updated=0,
            skipped=0,
            error="",
            attempts=0,
            started_at=None,
            read_at=None,
            finished_at=None,
            updated_at=now,
        )
        if not started:
            import_run.refresh_from_db()
            raise ImportStateError(
                f"The import is {import_run.get_status_display().lower()}; "
                "it cannot be started again."
            )
        ImportProblem.objects.filter(import_run=import_run).delete()
        # A dry run's batches were counted, not applied.
        ImportBatch.objects.filter(import_run=import_run).delete()
        jobs.run_import(import_run.pk)
    import_run.refresh_from_db()
    return import_run


def create_import(
    *,
    source: IO[bytes] | Iterable[bytes],
    name: str,
    lists: Sequence[MailingList] = (),
    mode: str = Import.Mode.SUBSCRIBE,
    overwrite: bool = False,
    subscription_status: str = Subscription.Status.CONFIRMED,
    mapping: Any = None,
    has_header: bool | None = None,
    actor: Any = None,
    via: str = "admin",
    dry_run: bool = False,
) -> Import:
    """Store, configure and start in one go: the API's and the command's way."""
    import_run = store_upload(source=source, name=name, actor=actor, via=via)
    try:
        configure(
            import_run=import_run,
            mapping=mapping,
            has_header=has_header,
            mode=mode,
            overwrite=overwrite,
            subscription_status=subscription_status,
            lists=lists,
        )
        return start_import(import_run=import_run, dry_run=dry_run)
    except BaseException:
        discard(import_run=import_run)
        raise


def cancel_import(*, import_run: Import) -> Import:
    """Stop the import. A running one stops at its next transaction (rows applied
    so far stay); one not yet taken by a worker ends at once."""
    with transaction.atomic():
        locked = Import.objects.select_for_update().get(pk=import_run.pk)
        if locked.status == Import.Status.RUNNING:
            locked.cancel_requested = True
            locked.save(update_fields=["cancel_requested", "updated_at"])
        elif locked.status in (Import.Status.DRAFT, Import.Status.QUEUED, Import.Status.CHECKED):
            locked.status = Import.Status.CANCELLED
            locked.phase = Import.Phase.DONE
            locked.finished_at = timezone.now()
            locked.save(update_fields=["status", "phase", "finished_at", "updated_at"])
            staging.drop(locked.pk)
            transaction.on_commit(lambda: file_path(locked).unlink(missing_ok=True))
        else:
            raise ImportStateError(f"The import is already {locked.get_status_display().lower()}.")
    import_run.refresh_from_db()
    return import_run


def discard(*, import_run: Import) -> None:
    """Remove a draft that will never run, with its file."""
    file_path(import_run).unlink(missing_ok=True)
    import_run.delete()
