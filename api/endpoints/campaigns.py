from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.schemas import (
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignServerRef,
    ErrorOut,
    StartIn,
    TestSendIn,
    TestSendOut,
)
from api.selectors import (
    campaigns_page,
    get_or_404,
    lists_by_ids,
    smtp_server_by_id,
    smtp_servers_by_ids,
)
from campaigns import services
from campaigns.models import Campaign
from delivery.models import SmtpServer

router = Router(tags=["campaigns"])

# Actions answer 202: the state changed now, the sending happens in workers.
ACTION_RESPONSES: dict[int, Any] = {202: CampaignOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class CampaignFilter(Schema):
    before: int | None = Field(default=None, description="Return campaigns with a smaller id.")
    limit: int = Field(default=50, ge=1, le=500)


@router.post("/campaigns", response={201: CampaignOut, 400: ErrorOut})
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Any]:
    campaign = services.create_campaign(
        name=payload.name,
        subject=payload.subject,
        from_email=payload.from_email,
        html=payload.html,
        text=payload.text,
        reply_to=payload.reply_to,
        lists=lists_by_ids(payload.lists),
        smtp_server=smtp_server_by_id(payload.smtp_server),
        smtp_weight=payload.smtp_weight,
        extra_servers=extra_servers(payload.extra_smtp_servers),
        max_error_rate=payload.max_error_rate,
        max_errors=payload.max_errors,
        actor=request.auth,  # type: ignore[attr-defined]
    )
    return Status(201, campaign)


def extra_servers(refs: list[CampaignServerRef]) -> list[tuple[SmtpServer, int]]:
    servers = smtp_servers_by_ids((ref.id for ref in refs), field="extra_smtp_servers")
    return [(servers[ref.id], ref.weight) for ref in refs]


@router.get("/campaigns", response={200: CampaignPage, 400: ErrorOut})
def list_campaigns(request: HttpRequest, filters: Query[CampaignFilter]) -> dict[str, Any]:
    page = campaigns_page(before=filters.before, limit=filters.limit)
    return {"items": page.items, "next_before": page.next_key}


@router.get("/campaigns/{campaign_id}", response={200: CampaignDetailOut, 404: ErrorOut})
def get_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    # CampaignDetailOut adds the ledger counts (campaigns.selectors.campaign_stats).
    return get_or_404(Campaign, campaign_id)


@router.post(
    "/campaigns/{campaign_id}/test",
    response={202: TestSendOut, 400: ErrorOut, 404: ErrorOut},
)
def send_test(request: HttpRequest, campaign_id: int, payload: TestSendIn) -> Status[Any]:
    campaign = get_or_404(Campaign, campaign_id)
    return Status(202, {"recipients": services.send_test(campaign=campaign, emails=payload.emails)})


@router.post("/campaigns/{campaign_id}/start", response=ACTION_RESPONSES)
def start_campaign(
    request: HttpRequest, campaign_id: int, payload: StartIn | None = None
) -> Status[Any]:
    campaign = get_or_404(Campaign, campaign_id)
    scheduled_at = payload.scheduled_at if payload else None
    return Status(202, services.start_campaign(campaign=campaign, scheduled_at=scheduled_at))


@router.post("/campaigns/{campaign_id}/pause", response=ACTION_RESPONSES)
def pause_campaign(request: HttpRequest, campaign_id: int) -> Status[Any]:
    campaign = get_or_404(Campaign, campaign_id)
    return Status(202, services.pause_campaign(campaign=campaign, reason="Paused through the API."))


@router.post("/campaigns/{campaign_id}/resume", response=ACTION_RESPONSES)
def resume_campaign(request: HttpRequest, campaign_id: int) -> Status[Any]:
    campaign = get_or_404(Campaign, campaign_id)
    return Status(202, services.resume_campaign(campaign=campaign))


@router.post("/campaigns/{campaign_id}/cancel", response=ACTION_RESPONSES)
def cancel_campaign(request: HttpRequest, campaign_id: int) -> Status[Any]:
    campaign = get_or_404(Campaign, campaign_id)
    return Status(202, services.cancel_campaign(campaign=campaign))
