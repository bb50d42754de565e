from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Status

from api.schemas import (
    CountOut,
    ErrorOut,
    SegmentCollection,
    SegmentConditions,
    SegmentIn,
    SegmentOut,
    SegmentPatch,
)
from api.selectors import get_or_404
from postino.downloads import csv_download
from subscribers.models import Segment
from subscribers.segments import selectors, services

router = Router(tags=["segments"])


def _definition(payload: SegmentConditions | SegmentPatch) -> dict[str, Any]:
    return {"match": payload.match, "conditions": payload.conditions}


@router.post("/segments", response={201: SegmentOut, 400: ErrorOut})
def create_segment(request: HttpRequest, payload: SegmentIn) -> Status[Any]:
    """A saved filter; it holds no people and is evaluated each time it is used."""
    segment = services.create_segment(
        name=payload.name,
        description=payload.description,
        definition=_definition(payload),
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201, segment)


@router.get("/segments", response=SegmentCollection)
def list_segments(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.segments_by_name()}


@router.post("/segments/count", response={200: CountOut, 400: ErrorOut})
def count_conditions(request: HttpRequest, payload: SegmentConditions) -> dict[str, int]:
    """How many subscribers these conditions match, without saving a segment."""
    return {"count": selectors.count_group(services.check_definition(_definition(payload)))}


@router.get("/segments/{segment_id}", response={200: SegmentOut, 404: ErrorOut})
def get_segment(request: HttpRequest, segment_id: int) -> Segment:
    return get_or_404(Segment, segment_id)


@router.patch("/segments/{segment_id}", response={200: SegmentOut, 400: ErrorOut, 404: ErrorOut})
def update_segment(request: HttpRequest, segment_id: int, payload: SegmentPatch) -> Segment:
    segment = get_or_404(Segment, segment_id)
    given = payload.model_fields_set
    definition = segment.definition
    if "conditions" in given or "match" in given:
        definition = {
            "match": payload.match if "match" in given else definition.get("match", "all"),
            "conditions": (
                payload.conditions if "conditions" in given else definition.get("conditions")
            ),
        }
    return services.update_segment(
        segment=segment,
        name=payload.name if "name" in given else segment.name,
        description=payload.description if "description" in given else None,
        definition=definition,
    )


@router.delete("/segments/{segment_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete_segment(request: HttpRequest, segment_id: int) -> Status[None]:
    """Refused (409) while a campaign that has not started targets or excludes it."""
    services.delete_segment(segment=get_or_404(Segment, segment_id))
    return Status(204, None)


@router.get("/segments/{segment_id}/count", response={200: CountOut, 404: ErrorOut})
def count_segment(request: HttpRequest, segment_id: int) -> dict[str, int]:
    """How many subscribers the segment matches now (any status; a campaign then
    keeps those who are enabled, confirmed on a list and not suppressed)."""
    segment = get_or_404(Segment, segment_id)
    count = selectors.count_segment(segment)
    services.record_count(segment=segment, count=count)
    return {"count": count}


@router.get("/segments/{segment_id}/export", response={404: ErrorOut})
def export_segment(request: HttpRequest, segment_id: int) -> StreamingHttpResponse:
    """The matching subscribers as CSV, streamed: email, name, status, dates, lists
    and one column per attribute; formula-looking text starts with an apostrophe."""
    segment = get_or_404(Segment, segment_id)
    return csv_download(selectors.export_segment(segment), f"segment-{segment.pk}.csv")
