from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.schemas import ErrorOut, SubscriberIn, SubscriberOut, SubscriberPage
from api.selectors import lists_by_ids, subscribers_page
from subscribers import services

router = Router(tags=["subscribers"])


class SubscriberFilter(Schema):
    email: str | None = Field(default=None, description="Exact address (case-insensitive).")
    after: int | None = Field(default=None, description="Return subscribers with a greater id.")
    limit: int = Field(default=100, ge=1, le=1000)


@router.post("/subscribers", response={201: SubscriberOut, 400: ErrorOut, 409: ErrorOut})
def create_subscriber(request: HttpRequest, payload: SubscriberIn) -> Status[Any]:
    subscriber = services.create_subscriber(
        email=payload.email,
        name=payload.name,
        attributes=payload.attributes,
        lists=lists_by_ids(payload.lists),
        preconfirm=payload.preconfirm,
    )
    return Status(201, subscriber)


@router.get("/subscribers", response={200: SubscriberPage, 400: ErrorOut})
def list_subscribers(request: HttpRequest, filters: Query[SubscriberFilter]) -> dict[str, Any]:
    page = subscribers_page(email=filters.email, after=filters.after, limit=filters.limit)
    return {"items": page.items, "next_after": page.next_key}
