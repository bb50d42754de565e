"""Reads for campaigns: stats for pages and API."""

from __future__ import annotations

from typing import TypedDict

from django.db.models import Count

from campaigns.models import Campaign
from delivery.models import Delivery


class CampaignStats(TypedDict):
    total: int
    pending: int
    sent: int
    failed: int


def campaign_stats(campaign: Campaign) -> CampaignStats:
    counts = dict(
        Delivery.objects.filter(campaign=campaign)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    sent = counts.get(Delivery.Status.SENT, 0)
    failed = counts.get(Delivery.Status.FAILED, 0)
    pending = counts.get(Delivery.Status.PENDING, 0) + counts.get(Delivery.Status.CLAIMED, 0)
    return {"total": sent + failed + pending, "pending": pending, "sent": sent, "failed": failed}
