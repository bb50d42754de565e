from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from django.db import transaction
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from api.schemas import (
    AbTestOut,
    AbWinnerIn,
    CampaignDetailOut,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    CampaignReportOut,
    CampaignServerRef,
    ErrorOut,
    RescheduleIn,
    StartIn,
    TestSendIn,
    TestSendOut,
    ab_test_payload,
)
from api.selectors import (
    campaigns_page,
    get_or_404,
    layout_by_id,
    lists_by_ids,
    segments_by_ids,
    smtp_server_by_id,
    smtp_servers_by_ids,
)
from campaigns import abtest, schedule, services
from campaigns.models import Campaign
from delivery.models import SmtpServer
from delivery.services import KEEP
from tracking import selectors as tracking_selectors

router = Router(tags=["campaigns"])

# Actions answer 202: the state changed now, the sending happens in workers.
ACTION_RESPONSES: dict[int, Any] = {202: CampaignOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut}


class CampaignFilter(Schema):
    before: int | None = Field(default=None, description="Return campaigns with a smaller id.")
    limit: int = Field(default=50, ge=1, le=500)
    archived: bool | None = Field(
        default=None, description="true: only archived campaigns; false: only the others."
    )


@router.post("/campaigns", response={201: CampaignOut, 400: ErrorOut})
def create_campaign(request: HttpRequest, payload: CampaignIn) -> Status[Any]:
    with transaction.atomic():  # a refused A/B test leaves no campaign behind
        campaign = _create(request, payload)
        if payload.ab_test is not None:
            abtest.configure(
                campaign=campaign,
                variants=[abtest.VariantIn(**v.dict()) for v in payload.ab_test.variants],
                test_percent=payload.ab_test.test_percent,
                wait_minutes=payload.ab_test.wait_minutes,
                metric=payload.ab_test.metric,
            )
    return Status(201, campaign)


def _create(request: HttpRequest, payload: CampaignIn) -> Campaign:
    return services.create_campaign(
        name=payload.name,
        subject=payload.subject,
        from_email=payload.from_email,
        html=payload.html,
        text=payload.text,
        reply_to=payload.reply_to,
        template=layout_by_id(payload.layout),
        lists=lists_by_ids(payload.lists),
        segments=segments_by_ids(payload.segments),
        excluded_segments=segments_by_ids(payload.excluded_segments, field="excluded_segments"),
        smtp_server=smtp_server_by_id(payload.smtp_server),
        smtp_weight=payload.smtp_weight,
        extra_servers=extra_servers(payload.extra_smtp_servers),
        max_error_rate=payload.max_error_rate,
        max_errors=payload.max_errors,
        track_opens=payload.track_opens,
        track_clicks=payload.track_clicks,
        tracking_privacy=payload.tracking_privacy,
        preheader=payload.preheader,
        editor=payload.editor,
        source=payload.source,
        tags=payload.tags,
        public_archive=payload.public_archive,
        actor=request.auth,  # type: ignore[attr-defined]
    )


def extra_servers(refs: list[CampaignServerRef]) -> list[tuple[SmtpServer, int]]:
    servers = smtp_servers_by_ids((ref.id for ref in refs), field="extra_smtp_servers")
    return [(servers[ref.id], ref.weight) for ref in refs]


@router.get("/campaigns", response={200: CampaignPage, 400: ErrorOut})
def list_campaigns(request: HttpRequest, filters: Query[CampaignFilter]) -> dict[str, Any]:
    page = campaigns_page(before=filters.before, limit=filters.limit, archived=filters.archived)
    return {"items": page.items, "next_before": page.next_key}


@router.get("/campaigns/{campaign_id}", response={200: CampaignDetailOut, 404: ErrorOut})
def get_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    # CampaignDetailOut adds the ledger counts (campaigns.selectors.campaign_stats).
    return get_or_404(Campaign, campaign_id)


@router.get("/campaigns/{campaign_id}/report", response={200: CampaignReportOut, 404: ErrorOut})
def campaign_report(request: HttpRequest, campaign_id: int) -> dict[str, Any]:
    """What the campaign did: deliveries, bounces, human and machine opens and
    clicks (per link, per day, per domain), unsubscribes and complaints."""
    report = tracking_selectors.campaign_report(get_or_404(Campaign, campaign_id))
    return {
        "sent": report.sent,
        "delivered": report.delivered,
        "failed": report.failed,
        "bounced": {"hard": report.hard_bounces, "soft": report.soft_bounces},
        "opens": asdict(report.opens),
        "clicks": {**asdict(report.clicks), "links": [asdict(link) for link in report.links]},
        "unsubscribed": report.unsubscribed,
        "unsubscribe_reasons": [
            {"reason": row.code, "label": row.label, "count": row.count} for row in report.reasons
        ],
        "complaints": report.complaints,
        "days": [asdict(day) for day in report.days],
        "timeline": {
            "step": report.timeline.step,
            "points": [asdict(row) for row in report.timeline.rows],
        },
        "domains": [
            {
                "domain": row.domain,
                "sent": row.sent,
                "delivered": row.delivered,
                "failed": row.failed,
                "bounced": {"hard": row.hard_bounces, "soft": row.soft_bounces},
                "unique_opens": row.unique_opens,
                "unique_clicks": row.unique_clicks,
            }
            for row in report.domains
        ],
    }


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
    scheduled_at, zone_name = _schedule_of(payload)
    return Status(
        202,
        services.start_campaign(
            campaign=campaign, scheduled_at=scheduled_at, schedule_timezone=zone_name
        ),
    )


def _schedule_of(payload: StartIn | None) -> tuple[datetime | None, str]:
    """The instant and zone asked for: a time without an offset is read in ``timezone``."""
    if payload is None or payload.scheduled_at is None:
        return None, ""
    return schedule.resolve(payload.scheduled_at, payload.timezone), payload.timezone


@router.post("/campaigns/{campaign_id}/reschedule", response=ACTION_RESPONSES)
def reschedule_campaign(
    request: HttpRequest, campaign_id: int, payload: RescheduleIn
) -> Status[Any]:
    """Move a scheduled campaign to another time (409 once it has started)."""
    campaign = get_or_404(Campaign, campaign_id)
    scheduled_at, zone_name = _schedule_of(payload)
    return Status(
        202,
        services.reschedule_campaign(
            campaign=campaign, scheduled_at=scheduled_at, schedule_timezone=zone_name
        ),
    )


@router.post("/campaigns/{campaign_id}/unschedule", response=ACTION_RESPONSES)
def unschedule_campaign(request: HttpRequest, campaign_id: int) -> Status[Any]:
    """Back to draft, to edit and schedule again; ``cancel`` ends a campaign for good."""
    campaign = get_or_404(Campaign, campaign_id)
    return Status(202, services.unschedule_campaign(campaign=campaign))


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


@router.post(
    "/campaigns/{campaign_id}/ab-winner",
    response={200: AbTestOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def choose_ab_winner(request: HttpRequest, campaign_id: int, payload: AbWinnerIn) -> Any:
    """Choose the A/B test's winner (a manual test, or overriding the automatic
    pick while it waits); it goes to the rest of the audience at once."""
    campaign = get_or_404(Campaign, campaign_id)
    abtest.choose_winner(campaign=campaign, variant=payload.variant)
    return ab_test_payload(campaign)


@router.patch(
    "/campaigns/{campaign_id}",
    response={200: CampaignDetailOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
)
def update_campaign(request: HttpRequest, campaign_id: int, payload: CampaignPatch) -> Campaign:
    """Change the fields given of a draft or scheduled campaign (409 otherwise)."""
    campaign = get_or_404(Campaign, campaign_id)
    given = payload.model_fields_set
    return services.update_campaign(
        campaign=campaign,
        name=payload.name if "name" in given else campaign.name,
        subject=payload.subject if "subject" in given else campaign.subject,
        from_email=payload.from_email if "from_email" in given else campaign.from_email,
        html=payload.html if "html" in given else campaign.html,
        text=payload.text if "text" in given else campaign.text,
        reply_to=payload.reply_to if "reply_to" in given else campaign.reply_to,
        template=layout_by_id(payload.layout) if "layout" in given else campaign.template,
        lists=lists_by_ids(payload.lists) if "lists" in given else campaign.lists.all(),
        segments=segments_by_ids(payload.segments) if "segments" in given else KEEP,
        excluded_segments=(
            segments_by_ids(payload.excluded_segments, field="excluded_segments")
            if "excluded_segments" in given
            else KEEP
        ),
        smtp_server=(
            smtp_server_by_id(payload.smtp_server)
            if "smtp_server" in given
            else campaign.smtp_server
        ),
        smtp_weight=payload.smtp_weight if "smtp_weight" in given else KEEP,
        extra_servers=(
            extra_servers(payload.extra_smtp_servers) if "extra_smtp_servers" in given else KEEP
        ),
        max_error_rate=payload.max_error_rate if "max_error_rate" in given else KEEP,
        max_errors=payload.max_errors if "max_errors" in given else KEEP,
        track_opens=payload.track_opens if "track_opens" in given else KEEP,
        track_clicks=payload.track_clicks if "track_clicks" in given else KEEP,
        tracking_privacy=payload.tracking_privacy if "tracking_privacy" in given else KEEP,
        preheader=payload.preheader if "preheader" in given else KEEP,
        editor=payload.editor if "editor" in given else KEEP,
        source=payload.source if "source" in given else KEEP,
        tags=payload.tags if "tags" in given else KEEP,
        public_archive=payload.public_archive if "public_archive" in given else KEEP,
    )


@router.delete("/campaigns/{campaign_id}", response={204: None, 404: ErrorOut, 409: ErrorOut})
def delete_campaign(request: HttpRequest, campaign_id: int) -> Status[None]:
    """Drafts only, and cancelled campaigns that queued nothing; archive the others."""
    services.delete_campaign(campaign=get_or_404(Campaign, campaign_id))
    return Status(204, None)


@router.post(
    "/campaigns/{campaign_id}/archive", response={200: CampaignOut, 404: ErrorOut, 409: ErrorOut}
)
def archive_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    """Finished or cancelled campaigns leave the default listing; their figures stay."""
    return services.archive_campaign(campaign=get_or_404(Campaign, campaign_id))


@router.post(
    "/campaigns/{campaign_id}/unarchive",
    response={200: CampaignOut, 404: ErrorOut, 409: ErrorOut},
)
def unarchive_campaign(request: HttpRequest, campaign_id: int) -> Campaign:
    return services.unarchive_campaign(campaign=get_or_404(Campaign, campaign_id))


@router.post("/campaigns/{campaign_id}/duplicate", response={201: CampaignOut, 404: ErrorOut})
def duplicate_campaign(request: HttpRequest, campaign_id: int) -> Status[Any]:
    """A new draft "Copy of …" with the content, lists, layout, servers and thresholds."""
    campaign = get_or_404(Campaign, campaign_id)
    copy = services.duplicate_campaign(campaign=campaign, actor=request.auth)  # type: ignore[attr-defined]
    return Status(201, copy)
