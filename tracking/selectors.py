"""A campaign's results, read from the ledger and the rollups: a few small queries
whatever the number of raw events or recipients."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.db.models import Count, Q, Sum, Value
from django.db.models.functions import Lower, StrIndex, Substr
from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import DomainOutcome
from subscribers.selectors import ReasonCount, unsubscribe_reasons
from tracking.models import CampaignHour, DomainStats, LinkStats

TOP_DOMAINS = 20
# A timeline is drawn by the hour while a campaign's opens and clicks span
# less than this (the first days are when they come), by the day after.
HOURLY_SPAN = timedelta(hours=72)
# Days drawn one by one, empty ones included; beyond, only days with figures.
MAX_FILLED_DAYS = 120
# Campaigns one comparison puts side by side (each report is a few queries).
MAX_COMPARED = 6


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
class TimeRow:
    """Opens and clicks of one hour or day, from ``start`` (UTC)."""

    start: datetime
    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0


@dataclass(frozen=True)
class Timeline:
    step: Literal["hour", "day"]
    rows: list[TimeRow]


@dataclass(frozen=True)
class DayRow:
    """A UTC day's opens and clicks (the API's ``days``)."""

    day: str
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int


@dataclass(frozen=True)
class DomainRow:
    domain: str
    sent: int = 0
    failed: int = 0
    hard_bounces: int = 0
    soft_bounces: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0

    @property
    def bounced(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def delivered(self) -> int:
        return max(self.sent - self.bounced, 0)

    @property
    def delivered_rate(self) -> float | None:
        """Delivered over every message that reached an end (sent or failed)."""
        attempted = self.sent + self.failed
        return self.delivered / attempted if attempted else None

    @property
    def bounce_rate(self) -> float | None:
        return self.bounced / self.sent if self.sent else None

    @property
    def open_rate(self) -> float | None:
        return self.unique_opens / self.delivered if self.delivered else None

    @property
    def click_rate(self) -> float | None:
        return self.unique_clicks / self.delivered if self.delivered else None


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
    timeline: Timeline
    failed: int = 0
    domains: list[DomainRow] = field(default_factory=list)
    reasons: list[ReasonCount] = field(default_factory=list)

    @property
    def bounced(self) -> int:
        return self.hard_bounces + self.soft_bounces

    @property
    def days(self) -> list[DayRow]:
        """The timeline summed by UTC day."""
        sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for row in self.timeline.rows:
            if row.opens or row.clicks or row.machine_opens or row.machine_clicks:
                day = sums[row.start.astimezone(UTC).date().isoformat()]
                day[0] += row.opens
                day[1] += row.clicks
                day[2] += row.machine_opens
                day[3] += row.machine_clicks
        return [DayRow(day, *counts) for day, counts in sorted(sums.items())]

    def rate(self, count: int) -> float | None:
        """``count`` over the messages delivered; None before any were."""
        return count / self.delivered if self.delivered else None

    def sent_rate(self, count: int) -> float | None:
        """``count`` over the messages sent (bounces are measured against these)."""
        return count / self.sent if self.sent else None


def campaign_report(campaign: Campaign) -> Report:
    # The ledger's tally, not a count of its rows: a few rows per campaign,
    # written in the statement that records each batch's outcomes.
    ended = DomainOutcome.objects.filter(campaign=campaign).aggregate(
        sent=Sum("sent"), failed=Sum("failed")
    )
    sent, failed = ended["sent"] or 0, ended["failed"] or 0
    bounces = BounceEvent.objects.filter(campaign=campaign).aggregate(
        hard=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.HARD)),
        soft=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.SOFT)),
        complaints=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.COMPLAINT)),
    )
    reasons = unsubscribe_reasons(campaign.pk)
    hours = list(CampaignHour.objects.filter(campaign=campaign).order_by("hour"))
    links = (
        LinkStats.objects.filter(campaign=campaign)
        .select_related("link")
        .order_by("-unique_clicks", "-clicks", "link_id")
    )

    def total(name: str) -> int:
        return sum(getattr(hour, name) for hour in hours)

    hard, soft = bounces["hard"] or 0, bounces["soft"] or 0
    return Report(
        sent=sent,
        failed=failed,
        delivered=max(sent - hard - soft, 0),
        hard_bounces=hard,
        soft_bounces=soft,
        complaints=bounces["complaints"] or 0,
        unsubscribed=sum(reason.count for reason in reasons),
        opens=Counts(total("unique_opens"), total("opens"), total("machine_opens")),
        clicks=Counts(total("unique_clicks"), total("clicks"), total("machine_clicks")),
        links=[
            LinkRow(row.link.url, row.unique_clicks, row.clicks, row.machine_clicks)
            for row in links
        ],
        timeline=timeline(hours, now=timezone.now()),
        domains=_domains(campaign),
        reasons=reasons,
    )


def compare_campaigns(campaign_ids: Sequence[int]) -> list[tuple[Campaign, Report]]:
    """The reports of up to MAX_COMPARED campaigns, in the order asked for;
    ids that name no campaign are left out."""
    wanted = list(dict.fromkeys(campaign_ids))[:MAX_COMPARED]
    found = Campaign.objects.in_bulk(wanted)
    return [(found[pk], campaign_report(found[pk])) for pk in wanted if pk in found]


def _domains(campaign: Campaign) -> list[DomainRow]:
    """The TOP_DOMAINS recipient domains the campaign sent most to (three queries)."""
    outcomes = list(
        DomainOutcome.objects.filter(campaign=campaign).order_by("-sent", "-failed", "domain")[
            :TOP_DOMAINS
        ]
    )
    if outcomes:
        names = [row.domain for row in outcomes]
    else:  # a campaign whose outcomes nobody tallied: its engaged domains
        names = list(
            DomainStats.objects.filter(campaign=campaign)
            .order_by("-unique_opens", "domain")
            .values_list("domain", flat=True)[:TOP_DOMAINS]
        )
    if not names:
        return []
    engaged = {
        row.domain: row for row in DomainStats.objects.filter(campaign=campaign, domain__in=names)
    }
    bounced = {
        domain: (hard, soft)
        for domain, hard, soft in BounceEvent.objects.filter(campaign=campaign)
        .annotate(domain=Lower(Substr("email", StrIndex("email", Value("@")) + 1)))
        .filter(domain__in=names)
        .values("domain")
        .annotate(
            hard=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.HARD)),
            soft=Count("email", distinct=True, filter=Q(kind=BounceEvent.Kind.SOFT)),
        )
        .values_list("domain", "hard", "soft")
    }
    sent = {row.domain: row for row in outcomes}
    rows = []
    for name in names:
        outcome, stats = sent.get(name), engaged.get(name)
        hard, soft = bounced.get(name, (0, 0))
        rows.append(
            DomainRow(
                domain=name,
                sent=outcome.sent if outcome else 0,
                failed=outcome.failed if outcome else 0,
                hard_bounces=hard,
                soft_bounces=soft,
                unique_opens=stats.unique_opens if stats else 0,
                unique_clicks=stats.unique_clicks if stats else 0,
            )
        )
    return rows


def timeline(hours: Sequence[CampaignHour], *, now: datetime) -> Timeline:
    """The hours as drawn: by the hour, empty ones included, while they span
    less than HOURLY_SPAN (up to now, for a campaign still in its first
    days); summed into days of the site's time zone after."""
    if not hours:
        return Timeline("hour", [])
    first, last = hours[0].hour, hours[-1].hour
    if last - first < HOURLY_SPAN:
        current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        end = current if first <= current < first + HOURLY_SPAN else last
        by_hour = {hour.hour: _row(hour.hour, [hour]) for hour in hours}
        steps = int((max(end, last) - first) / timedelta(hours=1)) + 1
        starts = [first + timedelta(hours=step) for step in range(steps)]
        return Timeline("hour", [by_hour.get(start, TimeRow(start)) for start in starts])
    by_day: dict[datetime, list[CampaignHour]] = defaultdict(list)
    for hour in hours:
        local = timezone.localtime(hour.hour)
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
        by_day[midnight].append(hour)
    days = sorted(by_day)
    span = (days[-1].date() - days[0].date()).days + 1
    if span <= MAX_FILLED_DAYS:
        tz = timezone.get_current_timezone()
        starts = [
            datetime.combine(days[0].date() + timedelta(days=step), datetime.min.time(), tz)
            for step in range(span)
        ]
    else:
        starts = days
    return Timeline("day", [_row(start, by_day.get(start, [])) for start in starts])


def _row(start: datetime, hours: Sequence[CampaignHour]) -> TimeRow:
    return TimeRow(
        start=start,
        opens=sum(hour.opens for hour in hours),
        clicks=sum(hour.clicks for hour in hours),
        machine_opens=sum(hour.machine_opens for hour in hours),
        machine_clicks=sum(hour.machine_clicks for hour in hours),
        unique_opens=sum(hour.unique_opens for hour in hours),
        unique_clicks=sum(hour.unique_clicks for hour in hours),
    )
