from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.schemas import (
    ErrorOut,
    ResendIn,
    ResendOut,
    SubscriberIn,
    SubscriberOut,
    SubscriberPage,
    SubscriberPatch,
)
from api.selectors import get_or_404, lists_by_ids, subscribers_page
from subscribers import consent, services
from subscribers.models import Subscriber

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
        origin=consent.api(request.auth),  # type: ignore[attr-defined]
    )
    return Status(201, subscriber)


@router.get("/subscribers", response={200: SubscriberPage, 400: ErrorOut})
def list_subscribers(request: HttpRequest, filters: Query[SubscriberFilter]) -> dict[str, Any]:
    page = subscribers_page(email=filters.email, after=filters.after, limit=filters.limit)
    return {"items": page.items, "next_after": page.next_key}


@router.get("/subscribers/{subscriber_id}", response={200: SubscriberOut, 404: ErrorOut})
def get_subscriber(request: HttpRequest, subscriber_id: int) -> Subscriber:
    return get_or_404(Subscriber, subscriber_id)


@router.patch(
    "/subscribers/{subscriber_id}",
    response={200: SubscriberOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def update_subscriber(
    request: HttpRequest, subscriber_id: int, payload: SubscriberPatch
) -> Subscriber:
    """Change the fields given; an address another subscriber has is a 409."""
    subscriber = get_or_404(Subscriber, subscriber_id)
    given = payload.model_fields_set
    return services.update_subscriber(
        subscriber=subscriber,
        email=payload.email if "email" in given else None,
        name=payload.name if "name" in given else None,
        attributes=payload.attributes if "attributes" in given else None,
        status=payload.status if "status" in given else None,
        lists=lists_by_ids(payload.lists) if "lists" in given else None,
        preconfirm=payload.preconfirm,
        origin=consent.api(request.auth),  # type: ignore[attr-defined]
    )


@router.post(
    "/subscribers/{subscriber_id}/confirmation",
    response={202: ResendOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def resend_confirmation(
    request: HttpRequest, subscriber_id: int, payload: ResendIn | None = None
) -> Status[Any]:
    """Send the double opt-in email again for the subscriber's unconfirmed
    subscriptions; 409 when none is waiting for confirmation."""
    subscriber = get_or_404(Subscriber, subscriber_id)
    asked = services.resend_confirmations(
        subscriber=subscriber, list_ids=payload.lists if payload else None
    )
    return Status(202, {"lists": [s.mailing_list_id for s in asked]})


@router.delete("/subscribers/{subscriber_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete_subscriber(request: HttpRequest, subscriber_id: int) -> Status[None]:
    """Deletes their subscriptions and delivery rows; suppressions by address stay.
    409 while a running or paused campaign still has a message queued for them."""
    services.delete_subscriber(subscriber=get_or_404(Subscriber, subscriber_id))
    return Status(204, None)
