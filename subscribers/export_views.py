"""Background exports: start one from a list or segment page, watch it, download it."""

from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from postino.permissions import staff_required
from subscribers import exports
from subscribers.models import Export, MailingList, Segment


@require_POST
@staff_required
def export_list(request: HttpRequest, list_id: int) -> HttpResponse:
    mailing_list = get_object_or_404(MailingList, pk=list_id)
    export = exports.start_export(mailing_list=mailing_list, actor=request.user)
    return redirect("subscribers:export_detail", export.pk)


@require_POST
@staff_required
def export_segment(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    export = exports.start_export(segment=segment, actor=request.user)
    return redirect("subscribers:export_detail", export.pk)


@require_GET
@staff_required
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    export = get_object_or_404(Export, pk=export_id)
    return render(request, "subscribers/export_detail.html", {"export": export})


@require_GET
@staff_required
def export_progress(request: HttpRequest, export_id: int) -> HttpResponse:
    export = get_object_or_404(Export, pk=export_id)
    return render(request, "subscribers/export_live.html", {"export": export})


@require_GET
@staff_required
def export_download(request: HttpRequest, export_id: int) -> HttpResponseBase:
    export = get_object_or_404(Export, pk=export_id)
    try:
        handle = exports.open_file(export)
    except exports.ExportNotReady as exc:
        messages.error(request, f"Not available: {exc}.")
        return redirect("subscribers:export_detail", export.pk)
    return FileResponse(
        handle, as_attachment=True, filename=f"export-{export.pk}.csv", content_type="text/csv"
    )
