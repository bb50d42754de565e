"""Sending domains: DKIM keys generated for a From domain, the DNS records to
publish, and live checks of what is published. Private keys never leave."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas import (
    ErrorOut,
    SendingDomainCollection,
    SendingDomainDetailOut,
    SendingDomainIn,
    SendingDomainOut,
)
from api.selectors import get_or_404
from delivery import domains
from delivery.models import SendingDomain

router = Router(tags=["sending-domains"])


@router.get("/sending-domains", response=SendingDomainCollection)
def list_sending_domains(request: HttpRequest) -> dict[str, Any]:
    return {"items": SendingDomain.objects.order_by("domain")}


@router.post("/sending-domains", response={201: SendingDomainOut, 400: ErrorOut, 409: ErrorOut})
def create_sending_domain(request: HttpRequest, payload: SendingDomainIn) -> Status[Any]:
    sending_domain = domains.create_sending_domain(
        domain=payload.domain,
        selector=payload.selector,
        generate_rsa="rsa" in payload.dkim,
        generate_ed25519="ed25519" in payload.dkim,
        return_path_domain=payload.return_path_domain,
    )
    return Status(201, sending_domain)


@router.get(
    "/sending-domains/{sending_domain_id}",
    response={200: SendingDomainDetailOut, 404: ErrorOut},
)
def get_sending_domain(request: HttpRequest, sending_domain_id: int) -> SendingDomain:
    return get_or_404(SendingDomain, sending_domain_id)


@router.delete("/sending-domains/{sending_domain_id}", response={204: None, 404: ErrorOut})
def delete_sending_domain(request: HttpRequest, sending_domain_id: int) -> Status[None]:
    domains.delete_sending_domain(sending_domain=get_or_404(SendingDomain, sending_domain_id))
    return Status(204, None)
