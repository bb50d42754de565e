"""Marketer pages for segments: the builder, its live count, a segment's matches."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.models import Campaign
from postino.downloads import csv_download
from postino.forms import error_list
from postino.permissions import staff_required
from subscribers.forms import SegmentForm
from subscribers.models import MailingList, Segment, Subscription
from subscribers.segments import definition as segment_definition
from subscribers.segments import selectors, services

# Matches shown on a segment's page; the export has them all.
SAMPLE_SIZE = 50


def _errors_by_place(exc: ValidationError) -> list[dict[str, str]]:
    return error_list(exc, default_field="definition")


def _builder_context(form: SegmentForm, errors: list[dict[str, str]]) -> dict[str, Any]:
    lists = [{"id": m.pk, "name": m.name} for m in MailingList.objects.order_by("name")]
    return {
        "form": form,
        "builder": {
            "lists": lists,
            "attributes": selectors.attribute_keys(),
            "statuses": [
                {"value": value, "label": label} for value, label in Subscription.Status.choices
            ],
            "errors": errors,
        },
    }


def _save(request: HttpRequest, segment: Segment | None) -> HttpResponse:
    if request.method == "POST":
        form = SegmentForm(request.POST)
    elif segment is not None:
        form = SegmentForm(
            initial={
                "name": segment.name,
                "description": segment.description,
                "definition": json.dumps(segment.definition, indent=2),
            }
        )
    else:
        form = SegmentForm(initial={"definition": ""})
    errors: list[dict[str, str]] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if segment is None:
                segment = services.create_segment(
                    name=data["name"],
                    description=data["description"],
                    definition=data["definition"],
                    actor=request.user,
                )
                messages.success(request, f"Segment “{segment.name}” created.")
            else:
                services.update_segment(
                    segment=segment,
                    name=data["name"],
                    description=data["description"],
                    definition=data["definition"],
                )
                messages.success(request, f"Segment “{segment.name}” saved.")
        except ValidationError as exc:
            form.add_service_error(exc)
            errors = _errors_by_place(exc)
        else:
            return redirect("segments:detail", segment.pk)
    context = _builder_context(form, errors)
    context["segment"] = segment
    return render(request, "subscribers/segment_form.html", context)


@require_GET
@staff_required
def segment_index(request: HttpRequest) -> HttpResponse:
    segments = list(selectors.segments_by_name())
    names = selectors.list_names()
    rows = [(segment, selectors.describe(segment, names)) for segment in segments]
    return render(request, "subscribers/segment_index.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@staff_required
def segment_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@staff_required
def segment_edit(request: HttpRequest, segment_id: int) -> HttpResponse:
    return _save(request, get_object_or_404(Segment, pk=segment_id))


@require_POST
@staff_required
def segment_count(request: HttpRequest) -> JsonResponse:
    """The builder's live count: the conditions as JSON in, the count out (or,
    with 400, each problem by its place so the builder marks the row)."""
    try:
        raw = json.loads(request.body or b"null")
    except json.JSONDecodeError:
        return JsonResponse(
            {"errors": [{"field": "definition", "message": "The body is not JSON."}]}, status=400
        )
    try:
        group = services.check_definition(raw)
    except ValidationError as exc:
        return JsonResponse({"errors": _errors_by_place(exc)}, status=400)
    return JsonResponse(
        {
            "count": selectors.count_group(group),
            "summary": segment_definition.describe(group, selectors.list_names()),
        }
    )


@require_GET
@staff_required
def segment_detail(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    count: int | None = None
    sample: list[Any] = []
    broken = ""
    try:
        group = segment_definition.parse(segment.definition)
    except ValidationError as exc:
        broken = "; ".join(exc.messages)
    else:
        count = selectors.count_group(group)
        services.record_count(segment=segment, count=count)
        sample = list(selectors.matching(group).order_by("id")[:SAMPLE_SIZE])
    campaigns = Campaign.objects.filter(segments=segment).order_by("-id")[:20]
    excluding = Campaign.objects.filter(excluded_segments=segment).order_by("-id")[:20]
    return render(
        request,
        "subscribers/segment_detail.html",
        {
            "segment": segment,
            "summary": selectors.describe(segment),
            "count": count,
            "sample": sample,
            "broken": broken,
            "campaigns": campaigns,
            "excluding": excluding,
        },
    )


@require_GET
@staff_required
def segment_export(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    return csv_download(selectors.export_segment(segment), f"segment-{segment.pk}.csv")


@require_http_methods(["GET", "POST"])
@staff_required
def segment_delete(request: HttpRequest, segment_id: int) -> HttpResponse:
    segment = get_object_or_404(Segment, pk=segment_id)
    if request.method == "POST":
        try:
            services.delete_segment(segment=segment)
        except services.SegmentInUse as exc:
            messages.error(request, f"Cannot delete: {exc}")
            return redirect("segments:detail", segment.pk)
        messages.success(request, f"Segment “{segment.name}” deleted.")
        return redirect("segments:index")
    return render(request, "subscribers/segment_confirm_delete.html", {"segment": segment})
