from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas import ErrorOut, ListCollection, ListIn, ListOut
from subscribers import selectors, services

router = Router(tags=["lists"])


@router.post("/lists", response={201: ListOut, 400: ErrorOut, 409: ErrorOut})
def create_list(request: HttpRequest, payload: ListIn) -> Status[Any]:
    mailing_list = services.create_list(
        name=payload.name, optin=payload.optin, description=payload.description
    )
    return Status(201, mailing_list)


@router.get("/lists", response=ListCollection)
def list_lists(request: HttpRequest) -> dict[str, Any]:
    return {"items": selectors.lists_with_counts()}
