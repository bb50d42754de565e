"""Reads for campaigns: stats for pages and API."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypedDict

from django.db.models import Count, QuerySet

from campaigns.models import Campaign, Template
from delivery.models import Delivery


class CampaignStats(TypedDict):
    total: int
    pending: int
    sent: int
    failed: int


def _empty() -> CampaignStats:
    return {"total": 0, "pending": 0, "sent": 0, "failed": 0}


def stats_for_campaigns(campaign_ids: Iterable[int]) -> dict[int, CampaignStats]:
    """Ledger counts for several campaigns in one grouped query."""
    ids = list(campaign_ids)
    result = {campaign_id: _empty() for campaign_id in ids}
    rows = (
        Delivery.objects.filter(campaign_id__in=ids)
        .order_by()
        .values_list("campaign_id", "status")
        .annotate(n=Count("id"))
    )
    for campaign_id, status, count in rows:
        stats = result[campaign_id]
        if status == Delivery.Status.SENT:
            stats["sent"] += count
        elif status == Delivery.Status.FAILED:
            stats["failed"] += count
        else:  # pending or claimed: not yet terminal
            stats["pending"] += count
        stats["total"] += count
    return result


def campaign_stats(campaign: Campaign) -> CampaignStats:
    return stats_for_campaigns([campaign.pk])[campaign.pk]


def campaigns_using_layout(layout: Template, *, statuses: Sequence[str] = ()) -> list[str]:
    """Names of the campaigns (in these statuses, if given) that use the layout."""
    qs = layout.campaigns.order_by("name")
    if statuses:
        qs = qs.filter(status__in=statuses)
    return list(qs.values_list("name", flat=True))


def layouts_with_usage() -> QuerySet[Template]:
    """Layouts with how many campaigns use each, for the layout index: one query."""
    return Template.objects.annotate(campaign_count=Count("campaigns")).order_by("name")
