"""A campaign's results, read from the ledger and the rollups: a few small queries
whatever the number of raw events."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import ConsentEvent
from tracking.models import CampaignDay, DomainStats, LinkStats

TOP_DOMAINS = 20


@dataclass(frozen=True)
class Counts:
    unique: int
    total: int
    machine: int


@dataclass(frozen=True)
class LinkRow:
    url: str
    unique: int
    total: int
    machine: int


@dataclass(frozen=True)
class DayRow:
    day: str
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int


@dataclass(frozen=True)
class DomainRow:
    domain: str
    unique_opens: int
    unique_clicks: int


@dataclass(frozen=True)
class Report:
    sent: int
    delivered: int
    hard_bounces: int
    soft_bounces: int
    complaints: int
    unsubscribed: int
    opens: Counts
    clicks: Counts
    links: list[LinkRow]
    days: list[DayRow]
    domains: list[DomainRow] = field(default_factory=list)

    def rate(self, count: int) -> float | None:
        """``count`` over the messages delivered; None before any were."""
        return count / self.delivered if self.delivered else None


def campaign_report(campaign: Campaign) -> Report:
    sent = Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count()
    bounces = BounceEvent.objects.filter(campaign=campaign).aggregate(
        hard=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.HARD)),
        soft=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.SOFT)),
        complaints=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.COMPLAINT)),
    )
    unsubscribed = (
        ConsentEvent.objects.filter(campaign=campaign, kind=ConsentEvent.Kind.UNSUBSCRIBED)
        .values("subscriber_id")
        .distinct()
        .count()
    )
    days = list(CampaignDay.objects.filter(campaign=campaign).order_by("day"))
    links = (
        LinkStats.objects.filter(campaign=campaign)
        .select_related("link")
        .order_by("-unique_clicks", "-clicks", "link_id")
    )
    domains = DomainStats.objects.filter(campaign=campaign).order_by("-unique_opens", "domain")

    def total(name: str) -> int:
        return sum(getattr(day, name) for day in days)

    hard, soft = bounces["hard"] or 0, bounces["soft"] or 0
    return Report(
        sent=sent,
        delivered=max(sent - hard - soft, 0),
        hard_bounces=hard,
        soft_bounces=soft,
        complaints=bounces["complaints"] or 0,
        unsubscribed=unsubscribed,
        opens=Counts(total("unique_opens"), total("opens"), total("machine_opens")),
        clicks=Counts(total("unique_clicks"), total("clicks"), total("machine_clicks")),
        links=[
            LinkRow(row.link.url, row.unique_clicks, row.clicks, row.machine_clicks)
            for row in links
        ],
        days=[
            DayRow(
                day.day.isoformat(), day.opens, day.clicks, day.machine_opens, day.machine_clicks
            )
            for day in days
        ],
        domains=[
            DomainRow(row.domain, row.unique_opens, row.unique_clicks)
            for row in domains[:TOP_DOMAINS]
        ],
    )
