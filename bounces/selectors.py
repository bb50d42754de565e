"""Reads over bounces and suppressions: the log, the lists, and campaign figures.

``BounceSummary`` is the one definition of the rates, used by the campaign
page, the dashboard and the auto-pause (``bounces.services.campaign_bounce_rates``),
so the figures a marketer sees are the ones the auto-pause judged. Bounce and
hard rates are over the messages *attempted*: those sent, plus those the server
refused during the SMTP transaction (an event from the ``smtp`` source whose
ledger row is ``failed``: it never became "sent"). An asynchronous bounce (a
DSN, a webhook) is about a message already counted as sent, so it adds a
bounce but not an attempt. The complaint rate is over ``sent``, since only a
delivered message can be reported as spam.

Every query here is portable (SQLite and PostgreSQL) and grouped: figures for
many campaigns cost one query, not one per campaign.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.db.models import CharField, Count, Q, QuerySet, Value
from django.db.models.functions import Left, Lower, Replace, StrIndex, Substr, TruncDate
from django.utils import timezone

from bounces.models import BounceEvent, Suppression
from delivery.models import Delivery

Kind = BounceEvent.Kind
COUNTED_KINDS = (Kind.HARD, Kind.SOFT, Kind.COMPLAINT)
CHARTED_KINDS = COUNTED_KINDS
# How much of a diagnostic identifies a reason: enough to tell "mailbox full"
# from "user unknown", short enough that trailing queue ids and timestamps
# (which make every reply unique) mostly fall outside it.
SNIPPET_CHARS = 80
REFUSED = "refused"  # the label of SMTP-time refusals in the figures' union
# Distinct (status, snippet) groups fetched before merging them in Python;
# the biggest groups come first, so the top few are exact in practice.
REASON_GROUPS_FETCHED = 200
# An SMTP-time refusal: the server said no while we sent, so the ledger row
# failed and the message is an attempt but was never "sent".
REFUSED_WHILE_SENDING = Q(source=BounceEvent.Source.SMTP, delivery__status=Delivery.Status.FAILED)


def format_rate(fraction: float) -> str:
    """0.0035 → "0.35%", 0.052 → "5.2%": small rates keep two decimals."""
    value = fraction * 100
    text = f"{value:.2f}" if value < 1 else f"{value:.1f}"
    return text.rstrip("0").rstrip(".") + "%"


# --- figures --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BounceSummary:
    sent: int = 0
    hard: int = 0
    soft: int = 0
    complaints: int = 0
    refused: int = 0  # of hard + soft: refused while sending, so never "sent"

    @property
    def attempted(self) -> int:
        return self.sent + self.refused

    @property
    def bounces(self) -> int:
        return self.hard + self.soft

    @property
    def bounce_rate(self) -> float:
        return self.bounces / self.attempted if self.attempted else 0.0

    @property
    def hard_rate(self) -> float:
        return self.hard / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def hard_share(self) -> int:
        """Percentage of the bounces that were hard (for the split bar)."""
        return round(100 * self.hard / self.bounces) if self.bounces else 0

    @property
    def bounce_percent(self) -> str:
        return format_rate(self.bounce_rate)

    @property
    def hard_percent(self) -> str:
        return format_rate(self.hard_rate)

    @property
    def complaint_percent(self) -> str:
        return format_rate(self.complaint_rate)

    @property
    def is_empty(self) -> bool:
        return not (self.sent or self.hard or self.soft or self.complaints)


def _summaries(
    sent_rows: QuerySet[Delivery], event_rows: QuerySet[BounceEvent], key: str
) -> dict[Any, BounceSummary]:
    """Union the grouped sent, event and refusal counts into one query."""
    sent = (
        sent_rows.filter(status=Delivery.Status.SENT)
        .order_by()
        .values(key)
        .annotate(kind=Value("sent", output_field=CharField()), n=Count("id"))
        .values_list(key, "kind", "n")
    )
    events = (
        event_rows.filter(kind__in=COUNTED_KINDS)
        .order_by()
        .values(key, "kind")
        .annotate(n=Count("id"))
        .values_list(key, "kind", "n")
    )
    refused = (
        event_rows.filter(REFUSED_WHILE_SENDING, kind__in=COUNTED_KINDS)
        .order_by()
        .values(key)
        .annotate(kind=Value(REFUSED, output_field=CharField()), n=Count("id"))
        .values_list(key, "kind", "n")
    )
    counts: dict[Any, dict[str, int]] = {}
    for group, kind, n in sent.union(events, refused, all=True):
        counts.setdefault(group, {})[kind] = n
    return {
        group: BounceSummary(
            sent=by_kind.get("sent", 0),
            hard=by_kind.get(Kind.HARD, 0),
            soft=by_kind.get(Kind.SOFT, 0),
            complaints=by_kind.get(Kind.COMPLAINT, 0),
            refused=by_kind.get(REFUSED, 0),
        )
        for group, by_kind in counts.items()
    }


def campaign_bounce_summary(campaign_ids: Iterable[int]) -> dict[int, BounceSummary]:
    """Sent, hard, soft and complaint counts for many campaigns: one grouped query."""
    ids = list(campaign_ids)
    if not ids:
        return {}
    found = _summaries(
        Delivery.objects.filter(campaign_id__in=ids),
        BounceEvent.objects.filter(campaign_id__in=ids),
        "campaign_id",
    )
    return {campaign_id: found.get(campaign_id, BounceSummary()) for campaign_id in ids}


def _day_start(days: int) -> datetime:
    first = timezone.localdate() - timedelta(days=days - 1)
    return timezone.make_aware(datetime.combine(first, datetime.min.time()))


def bounce_totals(days: int = 30) -> BounceSummary:
    """All campaigns, messages sent and reports received in the last ``days`` days."""
    start = _day_start(days)
    found = _summaries(
        Delivery.objects.filter(sent_at__gte=start).annotate(everything=Value(1)),
        BounceEvent.objects.filter(received_at__gte=start).annotate(everything=Value(1)),
        "everything",
    )
    return found.get(1, BounceSummary())


@dataclass(frozen=True, slots=True)
class Reason:
    status: str
    snippet: str
    count: int


_NOISE = [
    # The database already cut the recipient's own address, leaving "<>".
    (re.compile(r"<[^<>\s]*@[^<>\s]*>|<>|\S+@\S+"), "<address>"),
    # IP addresses, queue and message ids, long numbers (SMTP codes such as 550
    # and enhanced codes such as 5.1.1 are kept: they are the reason).
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}\b"), "…"),
    (re.compile(r"\b(?=[0-9a-z]*\d)[0-9a-z]{8,}\b|\b\d{4,}\b"), "…"),
    (re.compile(r"\s+"), " "),
]


def normalise_diagnostic(text: str) -> str:
    """Strip what differs between recipients of the same refusal: addresses,
    queue ids and long numbers; collapse whitespace; keep a short snippet."""
    text = text.strip().lower()
    for pattern, replacement in _NOISE:
        text = pattern.sub(replacement, text)
    return text.strip(" -:;,.")[:SNIPPET_CHARS]


def _bounces(campaign_id: int | None, since: datetime | None) -> QuerySet[BounceEvent]:
    qs = BounceEvent.objects.filter(kind__in=(Kind.HARD, Kind.SOFT))
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    return qs.order_by()


def top_reasons(
    campaign_id: int | None, limit: int = 5, *, since: datetime | None = None
) -> list[Reason]:
    """The commonest bounce reasons: status code plus a normalised diagnostic.

    The database groups first, on the diagnostic with the recipient's own
    address cut out (the usual thing that makes each reply unique) and cut to
    a snippet; Python then merges what still differs only by ids or numbers.
    """
    rows = (
        _bounces(campaign_id, since)
        .annotate(
            # django-stubs types Replace's text as a Value; SQL REPLACE takes
            # any expression, here the row's own address.
            snippet=Left(
                Replace(Lower("diagnostic"), cast(Value, Lower("email")), Value("")),
                SNIPPET_CHARS * 2,
            )
        )
        .values_list("status", "snippet")
        .annotate(n=Count("id"))
        .order_by("-n")[:REASON_GROUPS_FETCHED]
    )
    merged: dict[tuple[str, str], int] = {}
    for status, snippet, n in rows:
        key = (status or "", normalise_diagnostic(snippet or ""))
        merged[key] = merged.get(key, 0) + n
    ranked = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return [
        Reason(status=status, snippet=snippet, count=n) for (status, snippet), n in ranked[:limit]
    ]


@dataclass(frozen=True, slots=True)
class DomainRow:
    domain: str
    hard: int
    soft: int
    complaints: int

    @property
    def total(self) -> int:
        return self.hard + self.soft + self.complaints


def top_domains(
    campaign_id: int | None, limit: int = 5, *, since: datetime | None = None
) -> list[DomainRow]:
    """Recipient domains with the most bounces and complaints."""
    qs = BounceEvent.objects.filter(kind__in=COUNTED_KINDS).exclude(email="")
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    if since is not None:
        qs = qs.filter(received_at__gte=since)
    rows = (
        qs.order_by()
        .annotate(domain=Lower(Substr("email", StrIndex("email", Value("@")) + 1)))
        .values("domain")
        .annotate(
            hard=Count("id", filter=Q(kind=Kind.HARD)),
            soft=Count("id", filter=Q(kind=Kind.SOFT)),
            complaints=Count("id", filter=Q(kind=Kind.COMPLAINT)),
            total=Count("id"),
        )
        .order_by("-total", "domain")[:limit]
    )
    return [
        DomainRow(
            domain=row["domain"], hard=row["hard"], soft=row["soft"], complaints=row["complaints"]
        )
        for row in rows
    ]


@dataclass(frozen=True, slots=True)
class BounceFigures:
    """What the campaign page and the dashboard show about bounces."""

    summary: BounceSummary
    reasons: list[Reason] = field(default_factory=list)
    domains: list[DomainRow] = field(default_factory=list)
    campaign_id: int | None = None
    days: int | None = None


def campaign_bounce_figures(campaign_id: int) -> BounceFigures:
    """Totals, top reasons and top domains of one campaign (three grouped queries)."""
    return BounceFigures(
        summary=campaign_bounce_summary([campaign_id])[campaign_id],
        reasons=top_reasons(campaign_id),
        domains=top_domains(campaign_id),
        campaign_id=campaign_id,
    )


def recent_bounce_figures(days: int = 30) -> BounceFigures:
    """All campaigns over the last ``days`` days (the dashboard card)."""
    since = _day_start(days)
    return BounceFigures(
        summary=bounce_totals(days),
        reasons=top_reasons(None, 3, since=since),
        domains=top_domains(None, 3, since=since),
        days=days,
    )


def bounces_per_day(days: int = 30) -> dict[str, list[tuple[date, int]]]:
    """Hard bounces, soft bounces and complaints per day (zeros included)."""
    start = _day_start(days)
    counts = {
        (day, kind): n
        for day, kind, n in BounceEvent.objects.filter(
            received_at__gte=start, kind__in=CHARTED_KINDS
        )
        .annotate(day=TruncDate("received_at"))
        .order_by()
        .values_list("day", "kind")
        .annotate(n=Count("id"))
    }
    first = start.date() if timezone.is_naive(start) else timezone.localtime(start).date()
    dates = [first + timedelta(days=i) for i in range(days)]
    return {kind: [(day, counts.get((day, kind), 0)) for day in dates] for kind in CHARTED_KINDS}


# --- lists ----------------------------------------------------------------------


def bounce_log(
    *, kind: str = "", source: str = "", query: str = "", campaign_id: int | None = None
) -> QuerySet[BounceEvent]:
    """Events for the log, newest first; the raw report is left in the database."""
    qs = BounceEvent.objects.select_related("campaign").defer(
        "raw", "campaign__html", "campaign__text"
    )
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if campaign_id is not None:
        qs = qs.filter(campaign_id=campaign_id)
    query = query.strip().lower()
    if query:
        qs = qs.filter(email__contains=query)
    return qs


def suppression_list(*, query: str = "", include_lifted: bool = False) -> QuerySet[Suppression]:
    """Suppressions with their cause (bounce, campaign) and who lifted them."""
    qs = Suppression.objects.select_related("bounce", "campaign", "lifted_by").defer(
        "bounce__raw", "bounce__diagnostic", "campaign__html", "campaign__text"
    )
    if not include_lifted:
        qs = qs.filter(lifted_at__isnull=True)
    query = query.strip().lower()
    if query:
        qs = qs.filter(email__contains=query)
    return qs


def suppressions_caused_by(event: BounceEvent) -> QuerySet[Suppression]:
    return Suppression.objects.filter(bounce=event).select_related("lifted_by", "campaign")


def other_reports(event: BounceEvent, limit: int = 10) -> list[BounceEvent]:
    """Earlier and later reports about the same address (for the detail page)."""
    if not event.email:
        return []
    return list(
        BounceEvent.objects.filter(email=event.email)
        .exclude(pk=event.pk)
        .defer("raw")
        .order_by("-id")[:limit]
    )
