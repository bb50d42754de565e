"""Recipient-domain limits: how fast we send to one domain, across all servers."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas import DomainLimitCollection, DomainLimitIn, DomainLimitOut, ErrorOut
from api.selectors import get_or_404
from delivery import services
from delivery.models import DomainLimit

router = Router(tags=["domain-limits"])


@router.get("/domain-limits", response=DomainLimitCollection)
def list_domain_limits(request: HttpRequest) -> dict[str, Any]:
    return {"items": DomainLimit.objects.order_by("domain")}


@router.post("/domain-limits", response={201: DomainLimitOut, 400: ErrorOut})
def create_domain_limit(request: HttpRequest, payload: DomainLimitIn) -> Status[Any]:
    domain_limit = services.create_domain_limit(
        domain=payload.domain, messages_per_minute=payload.messages_per_minute
    )
    return Status(201, domain_limit)


@router.put(
    "/domain-limits/{domain_limit_id}",
    response={200: DomainLimitOut, 400: ErrorOut, 404: ErrorOut},
)
def update_domain_limit(
    request: HttpRequest, domain_limit_id: int, payload: DomainLimitIn
) -> DomainLimit:
    return services.update_domain_limit(
        domain_limit=get_or_404(DomainLimit, domain_limit_id),
        domain=payload.domain,
        messages_per_minute=payload.messages_per_minute,
    )


@router.delete("/domain-limits/{domain_limit_id}", response={204: None, 404: ErrorOut})
def delete_domain_limit(request: HttpRequest, domain_limit_id: int) -> Status[None]:
    services.delete_domain_limit(domain_limit=get_or_404(DomainLimit, domain_limit_id))
    return Status(204, None)
