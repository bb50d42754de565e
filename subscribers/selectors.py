"""Reads for lists and subscribers."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from bounces.models import BounceEvent, Suppression
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers import consent
from subscribers.models import ConsentEvent, MailingList, Subscriber, Subscription
from tracking.models import Engagement


def lists_with_counts() -> QuerySet[MailingList]:
    return MailingList.objects.annotate(
        confirmed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.CONFIRMED)
        ),
        unconfirmed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.UNCONFIRMED)
        ),
        unsubscribed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.UNSUBSCRIBED)
        ),
    )


def search_subscribers(query: str = "") -> QuerySet[Subscriber]:
    """Subscribers whose address starts with ``query``, or whose name contains
    it, ignoring case; by id, so keyset pagination (``id > after``) pages
    through the matches whatever they matched on.

    Something that reads as an address (an @, or a dot and no space) is
    looked up by prefix only, which the unique index on the address answers
    at any size; names are matched anywhere, which reads the table.
    """
    qs = Subscriber.objects.order_by("id")
    query = query.strip()
    if not query:
        return qs
    if "@" in query or ("." in query and " " not in query):
        return qs.filter(email__startswith=query.lower())
    return qs.filter(Q(email__startswith=query.lower()) | Q(name__icontains=query))


# A subscriber's overall state, most decisive first: what the index shows.
STATE_BLOCKLISTED = "blocklisted"
STATE_SUPPRESSED = "suppressed"
STATE_ACTIVE = "active"
STATE_UNCONFIRMED = "unconfirmed"
STATE_UNSUBSCRIBED = "unsubscribed"
STATE_NO_LISTS = "no-lists"


def _active_suppressions(email: OuterRef) -> QuerySet[Suppression]:
    # At most one per address (the "one_active_suppression" constraint).
    return Suppression.objects.filter(email=email, lifted_at__isnull=True)


def _suppression_label(reason_field: str) -> Case:
    return Case(
        *[
            When(**{reason_field: value}, then=Value(f"Suppressed: {label.lower()}"))
            for value, label in Suppression.Reason.choices
        ],
        default=Value(""),
        output_field=CharField(),
    )


def with_states(subscribers: QuerySet[Subscriber]) -> QuerySet[Subscriber]:
    """Annotate ``state`` (a key above), ``state_label`` and ``suppression_reason``.

    All in the same SQL statement (EXISTS and a scalar subquery per row), so
    a page of subscribers costs one query whatever its size.
    """
    # The subscriber's best subscription, ranked confirmed < unconfirmed <
    # unsubscribed: one correlated lookup per shown row through the
    # (subscriber, list) index. Separate EXISTS per status let the planner
    # hash a whole-table scan of subscriptions instead, on every page view.
    rank = Case(
        When(status=Subscription.Status.CONFIRMED, then=Value(1)),
        When(status=Subscription.Status.UNCONFIRMED, then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    best = Subquery(
        Subscription.objects.filter(subscriber=OuterRef("pk"))
        .annotate(rank=rank)
        .order_by("rank")
        .values("rank")[:1]
    )
    state = Case(
        When(status=Subscriber.Status.BLOCKLISTED, then=Value(STATE_BLOCKLISTED)),
        When(suppression_reason__isnull=False, then=Value(STATE_SUPPRESSED)),
        When(best_subscription=1, then=Value(STATE_ACTIVE)),
        When(best_subscription=2, then=Value(STATE_UNCONFIRMED)),
        When(best_subscription=3, then=Value(STATE_UNSUBSCRIBED)),
        default=Value(STATE_NO_LISTS),
        output_field=CharField(),
    )
    return (
        subscribers.annotate(
            suppression_reason=Subquery(
                _active_suppressions(OuterRef("email")).values("reason")[:1]
            ),
            best_subscription=best,
        )
        .annotate(state=state)
        .annotate(
            state_label=Case(
                When(state=STATE_BLOCKLISTED, then=Value("Blocklisted")),
                When(state=STATE_SUPPRESSED, then=_suppression_label("suppression_reason")),
                When(state=STATE_ACTIVE, then=Value("Active")),
                When(state=STATE_UNCONFIRMED, then=Value("Unconfirmed")),
                When(state=STATE_UNSUBSCRIBED, then=Value("Unsubscribed from everything")),
                default=Value("On no list"),
                output_field=CharField(),
            )
        )
    )


def list_members(mailing_list: MailingList) -> QuerySet[Subscription]:
    """A list's memberships with the subscriber, marked when the address is
    suppressed (``suppression_label``, empty if not): one query per page."""
    return (
        Subscription.objects.filter(mailing_list=mailing_list)
        .select_related("subscriber")
        .annotate(
            suppression_reason=Subquery(
                _active_suppressions(OuterRef("subscriber__email")).values("reason")[:1]
            )
        )
        .annotate(suppression_label=_suppression_label("suppression_reason"))
    )


def subscriptions_of(subscriber: Subscriber) -> QuerySet[Subscription]:
    return subscriber.subscriptions.select_related("mailing_list", "confirmed_by").order_by(
        "mailing_list__name"
    )


# How much of a subscriber's history their page shows, newest first.
HISTORY_ROWS = 100


def consent_history(subscriber: Subscriber) -> list[ConsentEvent]:
    """The consent ledger of one subscriber, newest first, with list names."""
    return consent.history(subscriber.pk, limit=HISTORY_ROWS)


@dataclass(frozen=True, slots=True)
class ReasonCount:
    """How many people left a campaign for one reason."""

    code: str  # a ConsentEvent.Reason value; "" for "no reason given"
    label: str
    count: int


NO_REASON_LABEL = "No reason given"


def unsubscribe_reasons(campaign_id: int) -> list[ReasonCount]:
    """Why people unsubscribed through this campaign's links, each person once.

    A person counts under the latest reason they gave through the campaign,
    or under "no reason given" if they gave none: unsubscribing from two lists
    writes two ledger rows, and leaving, rejoining and leaving again writes
    more, but each is one person who left. Rows come in the order of
    ``ConsentEvent.Reason``, "no reason given" last; reasons nobody gave are
    left out (no unsubscribes: an empty list). One grouped query.
    """
    left = ConsentEvent.objects.filter(campaign_id=campaign_id, kind=ConsentEvent.Kind.UNSUBSCRIBED)
    latest_given = (
        left.filter(subscriber_id=OuterRef("pk"))
        .exclude(reason="")
        .order_by("-created_at", "-id")
        .values("reason")[:1]
    )
    counts: dict[str, int] = dict(
        Subscriber.objects.filter(pk__in=left.values("subscriber_id"))
        .annotate(code=Coalesce(Subquery(latest_given), Value("")))
        .order_by()
        .values("code")
        .annotate(n=Count("pk"))
        .values_list("code", "n")
    )
    labels = {code: str(label) for code, label in ConsentEvent.Reason.choices}
    # Known reasons in their order; a code no longer offered keeps its raw name.
    ordered = [c for c in labels if c in counts] + sorted(set(counts) - set(labels) - {""})
    rows = [ReasonCount(code=c, label=labels.get(c, c), count=counts[c]) for c in ordered]
    if "" in counts:
        rows.append(ReasonCount(code="", label=NO_REASON_LABEL, count=counts[""]))
    return rows


def messages_to(subscriber: Subscriber) -> list[Delivery]:
    """Campaign messages to this subscriber with their outcome, newest first,
    each with ``engagement`` (their opens and clicks of it, or None): two queries."""
    deliveries = list(
        Delivery.objects.filter(subscriber=subscriber)
        .select_related("campaign")
        .only(
            "id",
            "status",
            "attempts",
            "smtp_reply",
            "sent_at",
            "created_at",
            "campaign__id",
            "campaign__name",
        )
        .order_by("-id")[:HISTORY_ROWS]
    )
    engagements = {
        engagement.campaign_id: engagement
        for engagement in Engagement.objects.filter(
            subscriber=subscriber, campaign_id__in={d.campaign_id for d in deliveries}
        )
    }
    for delivery in deliveries:
        delivery.engagement = engagements.get(delivery.campaign_id)  # type: ignore[attr-defined]
    return deliveries


def bounces_of(subscriber: Subscriber) -> list[BounceEvent]:
    """Bounces and complaints for the subscriber or their address, newest first."""
    return list(
        BounceEvent.objects.filter(Q(subscriber=subscriber) | Q(email=subscriber.email))
        .select_related("campaign")
        .order_by("-id")[:HISTORY_ROWS]
    )


def active_suppression(email: str) -> Suppression | None:
    """The suppression in force for this address, with its bounce and campaign."""
    return (
        Suppression.objects.filter(email=email.lower(), lifted_at__isnull=True)
        .select_related("bounce", "campaign")
        .first()
    )


# Campaign states in which a list or recipient is still needed.
UNFINISHED_CAMPAIGN_STATUSES = (
    Campaign.Status.SCHEDULED,
    Campaign.Status.RUNNING,
    Campaign.Status.PAUSED,
)


def campaigns_sending_to(subscriber: Subscriber) -> list[str]:
    """Names of running or paused campaigns with a message still queued for the subscriber."""
    return list(
        Campaign.objects.filter(
            status__in=(Campaign.Status.RUNNING, Campaign.Status.PAUSED),
            deliveries__subscriber=subscriber,
            deliveries__status__in=Delivery.OPEN_STATUSES,
        )
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )


def unfinished_campaigns_of(mailing_list: MailingList) -> list[str]:
    """Names of scheduled, running or paused campaigns that target the list."""
    return list(
        mailing_list.campaigns.filter(status__in=UNFINISHED_CAMPAIGN_STATUSES)
        .order_by("name")
        .values_list("name", flat=True)
    )


@dataclass(frozen=True, slots=True)
class SubscriberDeletionImpact:
    """What deleting a subscriber takes with it, for the confirmation page."""

    subscriptions: int
    deliveries: int
    campaigns: int
    bounces: int
    suppressed: bool
    sending_in: list[str]


def subscriber_deletion_impact(subscriber: Subscriber) -> SubscriberDeletionImpact:
    ledger = Delivery.objects.filter(subscriber=subscriber).aggregate(
        rows=Count("id"), campaigns=Count("campaign_id", distinct=True)
    )
    return SubscriberDeletionImpact(
        subscriptions=subscriber.subscriptions.count(),
        deliveries=ledger["rows"],
        campaigns=ledger["campaigns"],
        bounces=BounceEvent.objects.filter(subscriber=subscriber).count(),
        suppressed=Suppression.objects.filter(
            email=subscriber.email, lifted_at__isnull=True
        ).exists(),
        sending_in=campaigns_sending_to(subscriber),
    )


@dataclass(frozen=True, slots=True)
class ListDeletionImpact:
    """What deleting a list takes with it, for the confirmation page."""

    subscriptions: int
    sent_campaigns: list[str]
    draft_campaigns: list[str]
    unfinished_campaigns: list[str]


def list_deletion_impact(mailing_list: MailingList) -> ListDeletionImpact:
    by_status: dict[str, list[str]] = {}
    for name, status in mailing_list.campaigns.order_by("name").values_list("name", "status"):
        by_status.setdefault(status, []).append(name)
    return ListDeletionImpact(
        subscriptions=mailing_list.subscriptions.count(),
        sent_campaigns=by_status.get(Campaign.Status.FINISHED, [])
        + by_status.get(Campaign.Status.CANCELLED, []),
        draft_campaigns=by_status.get(Campaign.Status.DRAFT, []),
        unfinished_campaigns=[
            name for status in UNFINISHED_CAMPAIGN_STATUSES for name in by_status.get(status, [])
        ],
    )


# --- Export -------------------------------------------------------------------

EXPORT_COLUMNS = ["email", "name", "status", "subscribed_at", "confirmed_at", "unsubscribed_at"]
# Characters a spreadsheet takes as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Rows fetched per round trip, and written per chunk of the response.
EXPORT_CHUNK = 2000


def safe_cell(value: str) -> str:
    """Text a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


class Echo:
    """A file for ``csv.writer`` that hands each line back instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def attribute_keys_where(join: str, where: str, params: Sequence[Any]) -> list[str]:
    """Every attribute name used by the subscribers ``s`` that ``where`` keeps:
    one export column each. ``join`` may add tables the condition reads."""
    subscriber = connection.ops.quote_name(Subscriber._meta.db_table)
    if connection.vendor == "postgresql":
        keys = f"jsonb_object_keys(s.attributes) AS key FROM {subscriber} s"
    else:
        keys = f"j.key AS key FROM {subscriber} s, json_each(s.attributes) j"
    sql = f"SELECT DISTINCT {keys} {join} WHERE {where} ORDER BY 1"
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return [row[0] for row in cursor.fetchall()]


def _attribute_keys(mailing_list: MailingList) -> list[str]:
    subscription = connection.ops.quote_name(Subscription._meta.db_table)
    return attribute_keys_where(
        f"JOIN {subscription} sub ON sub.subscriber_id = s.id",
        "sub.mailing_list_id = %s",
        [mailing_list.pk],
    )


def export_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_cell(value if isinstance(value, str) else json.dumps(value))


def stream_csv(
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Iterable[Sequence[Any]],
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[str]:
    """CSV text in chunks of a few thousand rows: ``columns`` then one column per
    attribute key; each row is its fields followed by its attributes dict.
    ``on_rows`` hears how many rows each chunk held (progress of exports)."""
    writer = csv.writer(Echo())
    yield writer.writerow([*columns, *keys])
    chunk: list[str] = []
    for *fields, attributes in rows:
        values = attributes if isinstance(attributes, dict) else {}
        chunk.append(
            writer.writerow(
                [export_cell(value) for value in fields]
                + [export_cell(values.get(key)) for key in keys]
            )
        )
        if len(chunk) >= EXPORT_CHUNK:
            if on_rows is not None:
                on_rows(len(chunk))
            yield "".join(chunk)
            chunk = []
    if chunk:
        if on_rows is not None:
            on_rows(len(chunk))
        yield "".join(chunk)


def export_list(
    mailing_list: MailingList, on_rows: Callable[[int], None] | None = None
) -> Iterator[str]:
    """The list's members as CSV, streamed: one query read through a server-side
    cursor, written a few thousand rows per chunk, never the whole list at once."""
    rows = (
        Subscription.objects.filter(mailing_list=mailing_list)
        .order_by("subscriber_id")
        .values_list(
            "subscriber__email",
            "subscriber__name",
            "status",
            "created_at",
            "confirmed_at",
            "unsubscribed_at",
            "subscriber__attributes",
        )
    )
    yield from stream_csv(
        EXPORT_COLUMNS,
        _attribute_keys(mailing_list),
        rows.iterator(chunk_size=EXPORT_CHUNK),
        on_rows,
    )
