"""Import pages: upload, preview and map the columns, follow the progress, read the report."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from postino.downloads import csv_download
from postino.pagination import keyset_page
from postino.permissions import staff_required
from subscribers.forms import ImportOptionsForm, ImportUploadForm
from subscribers.imports import selectors, services
from subscribers.imports.columns import TARGETS, TYPES
from subscribers.models import Import, MailingList

PAGE_SIZE = 50
TARGET_LABELS = {
    "email": "Email address",
    "name": "Name",
    "first_name": "First name",
    "last_name": "Last name",
    "attribute": "Attribute",
    "ignore": "Ignore",
}


@require_GET
@staff_required
def import_index(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("after", "")
    page = keyset_page(
        Import.objects.exclude(status=Import.Status.DRAFT).select_related("created_by"),
        key="pk",
        after=int(after) if after.isdigit() else None,
        size=PAGE_SIZE,
        descending=True,
    )
    return render(request, "subscribers/import_index.html", {"page": page})


@require_http_methods(["GET", "POST"])
@staff_required
def import_create(request: HttpRequest) -> HttpResponse:
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            import_run = services.store_upload(source=upload, name=upload.name, actor=request.user)
        except ValidationError as exc:
            for message in exc.message_dict.get("file", exc.messages):
                form.add_error("file", message)
        else:
            # Coming from a list's page: that list is ticked on the preview.
            list_id = _int(request.POST.get("list"))
            if list_id is not None:
                import_run.lists.set(MailingList.objects.filter(pk=list_id))
            return redirect("subscribers:import_detail", import_run.pk)
    list_id = _int(request.GET.get("list") or request.POST.get("list"))
    return render(request, "subscribers/import_form.html", {"form": form, "list_id": list_id})


def _int(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() else None


@require_http_methods(["GET", "POST"])
@staff_required
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    import_run = get_object_or_404(Import, pk=import_id)
    editable = import_run.status in (Import.Status.DRAFT, Import.Status.CHECKED)
    if not editable:
        if request.method == "POST":
            messages.error(request, "This import has started; its settings can no longer change.")
            return redirect("subscribers:import_detail", import_run.pk)
        return render(
            request,
            "subscribers/import_progress.html",
            {"import": import_run, "progress": selectors.progress(import_run)},
        )
    initial = {
        "mode": import_run.mode,
        "lists": list(import_run.lists.all()),
        "subscription_status": import_run.subscription_status,
        "overwrite": import_run.overwrite,
        "has_header": import_run.dialect.get("has_header", True),
    }
    form = ImportOptionsForm(request.POST or None, initial=initial, mapping=import_run.mapping)
    if request.method == "POST" and form.is_valid():
        action = request.POST.get("action", "save")
        try:
            services.configure(
                import_run=import_run,
                mapping=form.mapping(),
                has_header=form.cleaned_data["has_header"],
                mode=form.cleaned_data["mode"],
                overwrite=form.cleaned_data["overwrite"],
                subscription_status=form.cleaned_data["subscription_status"],
                lists=form.cleaned_data["lists"],
            )
            if action in ("check", "import"):
                services.start_import(import_run=import_run, dry_run=action == "check")
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("subscribers:import_detail", import_run.pk)
    columns = [
        {"index": index, **column}
        for index, column in enumerate(form.mapping() if form.is_bound else import_run.mapping)
    ]
    return render(
        request,
        "subscribers/import_preview.html",
        {
            "import": import_run,
            "form": form,
            "columns": columns,
            "targets": [(target, TARGET_LABELS[target]) for target in TARGETS],
            "types": TYPES,
            "preview": services.preview(import_run),
        },
    )


@require_GET
@staff_required
def import_progress(request: HttpRequest, import_id: int) -> HttpResponse:
    """The live part of the progress page, fetched every second while it runs."""
    import_run = get_object_or_404(Import, pk=import_id)
    return render(
        request,
        "subscribers/import_live.html",
        {"import": import_run, "progress": selectors.progress(import_run)},
    )


@require_POST
@staff_required
def import_cancel(request: HttpRequest, import_id: int) -> HttpResponse:
    import_run = get_object_or_404(Import, pk=import_id)
    try:
        services.cancel_import(import_run=import_run)
    except services.ImportStateError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Cancelling: the batch in progress finishes, nothing after it.")
    return redirect("subscribers:import_detail", import_run.pk)


@require_GET
@staff_required
def import_report(request: HttpRequest, import_id: int) -> StreamingHttpResponse:
    import_run = get_object_or_404(Import, pk=import_id)
    return csv_download(selectors.problem_report(import_run), f"import-{import_run.pk}-skipped.csv")
