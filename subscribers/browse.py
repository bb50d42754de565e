"""Browsing subscribers at scale: the index's filters, and counts that stay
quick at a million rows. Bulk actions apply to the same filters."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from subscribers.models import MailingList, Segment, Subscriber, Subscription
from subscribers.segments import selectors as segment_selectors
from subscribers.selectors import search_subscribers


@dataclass(frozen=True)
class SubscriberFilter:
    """The subscriber index's filters, also what a bulk action applies to."""

    query: str = ""
    list_id: int | None = None
    # A subscription status (on the chosen list, or on any list), "blocklisted",
    # or empty for everyone.
    status: str = ""
    segment_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "list_id": self.list_id,
            "status": self.status,
            "segment_id": self.segment_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubscriberFilter:
        return cls(
            query=str(data.get("query") or ""),
            list_id=data.get("list_id"),
            status=str(data.get("status") or ""),
            segment_id=data.get("segment_id"),
        )

    @property
    def empty(self) -> bool:
        return self == SubscriberFilter()


def filtered_subscribers(filters: SubscriberFilter) -> QuerySet[Subscriber]:
    """Subscribers matching the filters, ordered by id; each filter is one
    indexed condition, so a page stays quick at a million rows."""
    qs = search_subscribers(filters.query)
    if filters.status == Subscriber.Status.BLOCKLISTED:
        qs = qs.filter(status=Subscriber.Status.BLOCKLISTED)
    memberships = Subscription.objects.filter(subscriber=OuterRef("pk"))
    if filters.list_id is not None:
        memberships = memberships.filter(mailing_list_id=filters.list_id)
    if filters.status in Subscription.Status.values:
        qs = qs.filter(Exists(memberships.filter(status=filters.status)))
    elif filters.list_id is not None:
        qs = qs.filter(Exists(memberships))
    if filters.segment_id is not None:
        segment = Segment.objects.filter(pk=filters.segment_id).first()
        if segment is None:
            return qs.none()
        qs = qs.filter(pk__in=segment_selectors.matching_ids_sql(segment))
    return qs


def describe(filters: SubscriberFilter) -> str:
    """The filters in words, for the bulk action's page."""
    parts = []
    if filters.query:
        parts.append(f"address starts with “{filters.query}”")
    if filters.list_id is not None:
        name = MailingList.objects.filter(pk=filters.list_id).values_list("name", flat=True).first()
        parts.append(f"on list “{name or filters.list_id}”")
    if filters.status:
        parts.append(f"status {filters.status}")
    if filters.segment_id is not None:
        name = Segment.objects.filter(pk=filters.segment_id).values_list("name", flat=True).first()
        parts.append(f"in segment “{name or filters.segment_id}”")
    return ", ".join(parts) if parts else "every subscriber"


# Up to this many matches are counted exactly; beyond, the planner's estimate
# is shown ("about 1.2 million"): an exact COUNT(*) over a million rows on
# every page view is what makes peers' admin pages slow.
EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class MatchCount:
    value: int
    exact: bool


def count_matches(qs: QuerySet[Subscriber]) -> MatchCount:
    capped = qs.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1].count()
    if capped <= EXACT_COUNT_LIMIT:
        return MatchCount(capped, True)
    return MatchCount(max(_planner_estimate(qs), capped), False)


def _planner_estimate(qs: QuerySet[Subscriber]) -> int:
    if connection.vendor != "postgresql":
        return qs.count()  # SQLite has no row estimates; it is the small setup anyway
    sql, params = qs.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
