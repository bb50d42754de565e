"""Reads for campaigns: stats and audience sizes for pages and API."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypedDict

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from bounces.models import Suppression
from campaigns.models import Campaign, Template
from campaigns.rendering import TemplateValidationError, validate_templates
from delivery.models import Delivery
from subscribers.blocklist import rules as blocklist_rules
from subscribers.models import MailingList, Segment, Subscriber, Subscription
from subscribers.segments import selectors as segment_selectors

# Members a template is trial-rendered for on save: enough to see whether the
# audience's data suits it, few enough to keep saving instant.
TEMPLATE_CHECK_MEMBERS = 25


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


def template_check_members(
    lists: Iterable[MailingList], *, limit: int = TEMPLATE_CHECK_MEMBERS
) -> list[dict[str, Any]]:
    """The newest confirmed members of ``lists``, as templates see a subscriber.

    Newest, not random: ``ORDER BY random()`` would read the whole audience,
    and recent sign-ups carry the attributes the forms collect today. One query.
    """
    list_ids = [mailing_list.pk for mailing_list in lists]
    if not list_ids:
        return []
    rows = (
        Subscriber.objects.filter(
            subscriptions__mailing_list_id__in=list_ids,
            subscriptions__status=Subscription.Status.CONFIRMED,
        )
        .distinct()
        .order_by("-id")
        .values("id", "email", "name", "attributes")[:limit]
    )
    return [{**row, "attributes": row["attributes"] or {}} for row in rows]


def template_warnings(campaign: Campaign) -> list[str]:
    """What the campaign's templates would do to members whose data does not suit them.

    Empty when every sampled member renders fully. Never raises for template
    problems a save would refuse: those were refused already.
    """
    try:
        warnings = validate_templates(
            subject=campaign.subject,
            html=campaign.html,
            text=campaign.text,
            layout=campaign.template.html if campaign.template else None,
            members=audience_members(campaign, limit=TEMPLATE_CHECK_MEMBERS),
        )
    except TemplateValidationError as exc:
        return [str(exc)]
    return [str(warning) for warning in warnings]


def campaigns_using_layout(layout: Template, *, statuses: Sequence[str] = ()) -> list[str]:
    """Names of the campaigns (in these statuses, if given) that use the layout."""
    qs = layout.campaigns.order_by("name")
    if statuses:
        qs = qs.filter(status__in=statuses)
    return list(qs.values_list("name", flat=True))


def layouts_with_usage() -> QuerySet[Template]:
    """Layouts with how many campaigns use each, for the layout index: one query."""
    return Template.objects.annotate(campaign_count=Count("campaigns")).order_by("name")


def _segments_of(campaign: Campaign) -> tuple[list[Segment], list[Segment]]:
    """The campaign's targeted and excluded segments, in one query."""
    rows = (
        Segment.objects.filter(Q(campaigns=campaign.pk) | Q(excluding_campaigns=campaign.pk))
        .annotate(
            excluded=Exists(
                Campaign.excluded_segments.through.objects.filter(
                    campaign_id=campaign.pk, segment_id=OuterRef("pk")
                )
            )
        )
        .distinct()
        .order_by("pk")
    )
    chosen: list[Segment] = []
    left_out: list[Segment] = []
    for segment in rows:
        # Services refuse a segment both targeted and excluded; excluding wins.
        (left_out if segment.excluded else chosen).append(segment)
    return chosen, left_out


def audience_condition(campaign: Campaign) -> tuple[str, list[Any]]:
    """Who a campaign goes to, as SQL over ``subscribers_subscriber s``.

    Enabled subscribers whose address is neither suppressed nor covered by the
    blocklist (addresses, domains, patterns), who are confirmed on
    any of the campaign's lists, or who match any of its segments and are
    confirmed on some list (a segment picks among people who agreed to mail,
    it never reaches someone who unsubscribed from everything); minus anyone
    an excluded segment matches. Each person once, however many lists.
    ``campaigns.services.snapshot_audience`` writes exactly these people and
    ``audience_size`` counts them: one definition, so the number asked to
    confirm is the number that gets the message.
    """
    subscription = Subscription._meta.db_table
    campaign_lists = Campaign.lists.through._meta.db_table
    suppression = Suppression._meta.db_table
    now = timezone.now()
    chosen, left_out = _segments_of(campaign)
    targeted, targeted_params = segment_selectors.condition_of(chosen, now=now)
    excluded, excluded_params = segment_selectors.condition_of(left_out, now=now)
    blocked, blocked_params = blocklist_rules.blocked_sql("s.email")
    sql = f"""
        s.status = %s AND (
            EXISTS (
                SELECT 1 FROM {subscription} sub
                JOIN {campaign_lists} cl ON cl.mailinglist_id = sub.mailing_list_id
                WHERE cl.campaign_id = %s AND sub.subscriber_id = s.id AND sub.status = %s
            ) OR (
                {targeted} AND EXISTS (
                    SELECT 1 FROM {subscription} anysub
                    WHERE anysub.subscriber_id = s.id AND anysub.status = %s
                )
            )
        ) AND NOT {excluded} AND NOT EXISTS (
            SELECT 1 FROM {suppression} sp WHERE sp.email = s.email AND sp.lifted_at IS NULL
        ) AND NOT {blocked}
    """  # noqa: S608 - table names come from model metadata, values are parameters
    confirmed = Subscription.Status.CONFIRMED
    return sql, [
        Subscriber.Status.ENABLED,
        campaign.pk,
        confirmed,
        *targeted_params,
        confirmed,
        *excluded_params,
        *blocked_params,
    ]


def audience_members(campaign: Campaign, *, limit: int) -> list[dict[str, Any]]:
    """The newest members of the campaign's audience (lists and segments, less
    exclusions), as templates see a subscriber: for the preview's choice of
    recipient and the templates' trial renders. Two queries."""
    condition, params = audience_condition(campaign)
    sql = (
        f"SELECT s.id FROM {Subscriber._meta.db_table} s WHERE {condition} "  # noqa: S608
        "ORDER BY s.id DESC LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, limit])
        ids = [row[0] for row in cursor.fetchall()]
    rows = (
        Subscriber.objects.filter(pk__in=ids)
        .order_by("-id")
        .values("id", "email", "name", "attributes")
    )
    return [{**row, "attributes": row["attributes"] or {}} for row in rows]


def audience_size(campaign: Campaign) -> int:
    """How many people a start now would send to: one COUNT, nobody loaded."""
    condition, params = audience_condition(campaign)
    sql = f"SELECT COUNT(*) FROM {Subscriber._meta.db_table} s WHERE {condition}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0]) if row else 0


@contextmanager
def one_snapshot() -> Iterator[None]:
    """Reads inside see the database as of one moment, so figures that several
    queries compute (progress, chart, bounce card) agree with each other even
    while workers write outcomes between those queries.

    PostgreSQL's REPEATABLE READ, read only, costs one statement. Inside a
    transaction already begun (tests, ATOMIC_REQUESTS) the isolation level can
    no longer be set; the reads then simply run in that transaction.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield
