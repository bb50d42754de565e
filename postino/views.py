"""The dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from bounces.selectors import recent_bounce_figures
from campaigns.models import Campaign
from campaigns.selectors import stats_for_campaigns
from delivery.selectors import sent_per_day
from postino.charts import bar_chart
from postino.permissions import staff_required
from postino.selectors import dashboard_counts

RECENT_CAMPAIGNS = 5
DAYS_CHARTED = 30


@dataclass(frozen=True)
class CampaignProgress:
    campaign: Campaign
    total: int
    sent: int
    failed: int
    pending: int

    @property
    def percent(self) -> int:
        done = self.sent + self.failed
        return round(100 * done / self.total) if self.total else 0


@require_GET
@staff_required
def dashboard(request: HttpRequest) -> HttpResponse:
    campaigns = list(Campaign.objects.order_by("-created_at", "-id")[:RECENT_CAMPAIGNS])
    stats = stats_for_campaigns(c.pk for c in campaigns)
    recent = [CampaignProgress(campaign=c, **stats[c.pk]) for c in campaigns]
    daily = [(day.strftime("%b %d"), count) for day, count in sent_per_day(DAYS_CHARTED)]
    context = {
        **dashboard_counts(),
        "recent": recent,
        "daily_chart": bar_chart(daily, unit="messages"),
        "days_charted": DAYS_CHARTED,
        "bounce_figures": recent_bounce_figures(DAYS_CHARTED),
    }
    return render(request, "dashboard.html", context)
