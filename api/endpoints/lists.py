from __future__ import annotations

from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Router, Status

from api.schemas import ErrorOut, ListCollection, ListIn, ListOut, ListPatch, ListWithCountsOut
from api.selectors import get_or_404
from postino.downloads import csv_download
from subscribers import selectors, services
from subscribers.models import MailingList

router = Router(tags=["lists"])


@router.post("/lists", response={201: ListOut, 400: ErrorOut, 409: ErrorOut})
def create_list(request: HttpRequest, payload: ListIn) -> Status[Any]:
    mailing_list = services.create_list(
        name=payload.name,
        optin=payload.optin,
        description=payload.description,
        confirmation_subject=payload.confirmation_subject,
        confirmation_html=payload.confirmation_html,
        public=payload.public,
    )
    return Status(201, mailing_list)


@router.get("/lists", response=ListCollection)
def list_lists(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.lists_with_counts()}


@router.get("/lists/{list_id}", response={200: ListWithCountsOut, 404: ErrorOut})
def get_list(request: HttpRequest, list_id: int) -> MailingList:
    return get_or_404(selectors.lists_with_counts(), list_id)


@router.get("/lists/{list_id}/export", response={404: ErrorOut})
def export_list(request: HttpRequest, list_id: int) -> StreamingHttpResponse:
    """The list's members as CSV, streamed: email, name, subscription status and
    dates, then one column per attribute. Text that a spreadsheet would run as
    a formula starts with an apostrophe."""
    mailing_list = get_or_404(MailingList, list_id)
    return csv_download(selectors.export_list(mailing_list), f"list-{mailing_list.pk}.csv")


@router.patch(
    "/lists/{list_id}", response={200: ListOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut}
)
def update_list(request: HttpRequest, list_id: int, payload: ListPatch) -> MailingList:
    """Change the fields given; a name another list has (ignoring case) is a 409."""
    given = payload.model_fields_set
    return services.update_list(
        mailing_list=get_or_404(MailingList, list_id),
        name=payload.name if "name" in given else None,
        description=payload.description if "description" in given else None,
        optin=payload.optin if "optin" in given else None,
        confirmation_subject=(
            payload.confirmation_subject if "confirmation_subject" in given else None
        ),
        confirmation_html=payload.confirmation_html if "confirmation_html" in given else None,
        public=payload.public if "public" in given else None,
    )


@router.delete("/lists/{list_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete_list(request: HttpRequest, list_id: int) -> Status[None]:
    """Deletes its subscriptions; subscribers and sent campaigns' figures stay.
    409 while a scheduled, running or paused campaign targets it."""
    services.delete_list(mailing_list=get_or_404(MailingList, list_id))
    return Status(204, None)
