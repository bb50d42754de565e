"""Reads for the dashboard."""

from __future__ import annotations

from typing import Any

from django.db.models import Count

from campaigns.models import Campaign
from subscribers.models import MailingList, Subscriber


def dashboard_counts() -> dict[str, Any]:
    by_status = dict(Campaign.objects.order_by().values_list("status").annotate(n=Count("id")))
    return {
        "list_count": MailingList.objects.count(),
        "subscriber_count": Subscriber.objects.count(),
        "campaign_count": sum(by_status.values()),
        "campaigns_by_status": [
            (value, label, by_status.get(value, 0)) for value, label in Campaign.Status.choices
        ],
    }
