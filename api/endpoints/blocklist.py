from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.schemas import BlocklistAdded, BlocklistIn, BlocklistPage, ErrorOut
from api.selectors import get_or_404
from subscribers.blocklist import selectors, services
from subscribers.models import BlocklistEntry

router = Router(tags=["blocklist"])


class BlocklistFilter(Schema):
    q: str = Field(default="", description="Only entries starting with this.")
    after: int | None = Field(default=None, description="Return entries with a larger id.")
    limit: int = Field(default=100, ge=1, le=1000)


@router.get("/blocklist", response={200: BlocklistPage, 400: ErrorOut})
def list_blocklist(request: HttpRequest, filters: Query[BlocklistFilter]) -> dict[str, Any]:
    page = selectors.entries_page(search=filters.q, after=filters.after, size=filters.limit)
    return {"items": page.items, "next_after": page.next_key}


@router.post("/blocklist", response={201: BlocklistAdded, 400: ErrorOut})
def add_to_blocklist(request: HttpRequest, payload: BlocklistIn) -> Status[Any]:
    """All entries or none: a bad one is a 400 naming it (``entries.3``). From now
    on they are never mailed, imported or subscribed."""
    added = services.add_entries(
        lines=payload.entries,
        note=payload.note,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201, {"created": added.created, "existing": added.existing})


@router.delete("/blocklist/{entry_id}", response={204: None, 404: ErrorOut})
def remove_from_blocklist(request: HttpRequest, entry_id: int) -> Status[None]:
    services.remove_entry(entry=get_or_404(BlocklistEntry, entry_id))
    return Status(204, None)
