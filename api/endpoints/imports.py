"""Subscriber imports: upload a CSV file (multipart), follow it, read its error report."""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import reverse
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from api.schemas import ErrorOut
from api.selectors import get_or_404, lists_by_ids
from postino.downloads import csv_download
from subscribers.imports import selectors, services
from subscribers.models import Import, Subscription

router = Router(tags=["imports"])

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ImportCreated(Schema):
    id: int
    status: str


class ImportOut(Schema):
    id: int
    file_name: str
    status: str
    phase: str
    mode: str
    overwrite: bool
    dry_run: bool
    rows: int
    imported: int
    updated: int
    skipped: int
    percent: float
    rows_per_second: float | None
    eta_seconds: float | None
    error: str
    errors_url: str
    created_at: Any
    started_at: Any
    finished_at: Any


def _flag(request: HttpRequest, name: str, default: bool) -> bool:
    raw = request.POST.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in _TRUE:
        return True
    if raw.strip().lower() in _FALSE:
        return False
    raise ValidationError({name: f"{name} must be true or false, not {raw!r}."})


def _list_ids(request: HttpRequest) -> list[int]:
    ids: list[int] = []
    for raw in request.POST.getlist("lists"):
        for part in raw.replace(" ", "").split(","):
            if not part:
                continue
            if not part.isdigit():
                raise ValidationError({"lists": f"List ids are numbers; got {part!r}."})
            ids.append(int(part))
    return ids


def _out(request: HttpRequest, import_run: Import) -> dict[str, Any]:
    state = selectors.progress(import_run)
    return {
        "id": import_run.pk,
        "file_name": import_run.original_name,
        "status": import_run.status,
        "phase": import_run.phase or "waiting",
        "mode": import_run.mode,
        "overwrite": import_run.overwrite,
        "dry_run": import_run.dry_run,
        "rows": import_run.rows,
        "imported": import_run.imported,
        "updated": import_run.updated,
        "skipped": import_run.skipped,
        "percent": state.percent,
        "rows_per_second": state.rows_per_second,
        "eta_seconds": state.eta_seconds,
        "error": import_run.error,
        "errors_url": request.build_absolute_uri(
            reverse("api:import_errors", args=[import_run.pk])
        ),
        "created_at": import_run.created_at,
        "started_at": import_run.started_at,
        "finished_at": import_run.finished_at,
    }


@router.post("/imports", response={202: ImportCreated, 400: ErrorOut})
def create_import(request: HttpRequest, file: File[UploadedFile]) -> Status[Any]:
    """Multipart form: ``file``; ``lists`` (ids, repeated or comma-separated); ``mode``
    (subscribe, update or blocklist); ``overwrite``; ``status`` (of new subscriptions:
    confirmed, unconfirmed or unsubscribed); ``dry_run``; ``mapping`` (JSON, one entry
    per column, as ``GET`` shows it; guessed from the header when left out);
    ``header`` (whether the first row names the columns; guessed when left out)."""
    errors: dict[str, list[str]] = {}

    def collect(call: Any) -> Any:
        try:
            return call()
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
            return None

    mode = request.POST.get("mode", Import.Mode.SUBSCRIBE)
    overwrite = collect(lambda: _flag(request, "overwrite", False))
    dry_run = collect(lambda: _flag(request, "dry_run", False))
    header = None
    if request.POST.get("header") is not None:
        header = collect(lambda: _flag(request, "header", True))
    ids = collect(lambda: _list_ids(request)) or []
    lists = collect(lambda: lists_by_ids(ids)) or []
    mapping = None
    if request.POST.get("mapping"):
        try:
            mapping = json.loads(request.POST["mapping"])
        except ValueError:
            errors.setdefault("mapping", []).append("mapping must be JSON.")
    if errors:
        raise ValidationError(errors)
    import_run = services.create_import(
        source=file,
        name=file.name or "upload.csv",
        lists=lists,
        mode=mode,
        overwrite=bool(overwrite),
        subscription_status=request.POST.get("status", Subscription.Status.CONFIRMED),
        mapping=mapping,
        has_header=header,
        actor=request.user if request.user.is_authenticated else None,
        via="api",
        dry_run=bool(dry_run),
    )
    return Status(202, {"id": import_run.pk, "status": import_run.status})


@router.get("/imports/{import_id}", response={200: ImportOut, 404: ErrorOut})
def get_import(request: HttpRequest, import_id: int) -> dict[str, Any]:
    return _out(request, get_or_404(Import, import_id))


@router.get("/imports/{import_id}/errors", response={404: ErrorOut}, url_name="import_errors")
def import_errors(request: HttpRequest, import_id: int) -> StreamingHttpResponse:
    """The skipped rows as CSV: a header row, then row, line, column, value, reason."""
    import_run = get_or_404(Import, import_id)
    return csv_download(selectors.problem_report(import_run), f"import-{import_run.pk}-errors.csv")


@router.post("/imports/{import_id}/cancel", response={200: ImportOut, 404: ErrorOut, 409: ErrorOut})
def cancel_import(request: HttpRequest, import_id: int) -> dict[str, Any]:
    """A running import stops between two batches; rows imported so far stay."""
    import_run = services.cancel_import(import_run=get_or_404(Import, import_id))
    return _out(request, import_run)
