"""The dashboard, and the keyset pagination helper the marketer pages share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet
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

M = TypeVar("M", bound=Model)

RECENT_CAMPAIGNS = 5
DAYS_CHARTED = 30


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    items: Sequence[M]
    # The key to pass as ``after`` (or ``before``) for the next page; None on the last page.
    next_key: Any


def keyset_page(
    qs: QuerySet[M], *, key: str = "id", after: Any = None, size: int = 50, descending: bool = False
) -> KeysetPage[M]:
    """One page of ``qs`` ordered by a unique ``key``, starting after ``after``.

    Keyset pagination: the database seeks straight to the key through its
    index instead of counting and skipping rows as OFFSET does, so page 1000
    costs what page 1 costs and concurrent inserts never shift pages.
    """
    if after is not None:
        qs = qs.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
    rows = list(qs.order_by(f"-{key}" if descending else key)[: size + 1])
    items = rows[:size]
    next_key = getattr(items[-1], key) if len(rows) > size else None
    return KeysetPage(items=items, next_key=next_key)


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
