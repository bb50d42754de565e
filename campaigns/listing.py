"""Reads for the marketers' campaign index: the tag filter, the search, the chips.

Paged by ``postino.pagination``'s keyset on id, never OFFSET: the filters are
only more conditions in the WHERE, so every page still seeks by the key.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from campaigns.models import Campaign, Tag

# Longest search a person types into the box; more is noise for icontains.
MAX_QUERY_LENGTH = 200
# Tags offered as filter chips above the list.
MAX_TAG_CHIPS = 60


def campaign_index(*, archived: bool, tag: str = "", query: str = "") -> QuerySet[Campaign]:
    """The index's campaigns, with what its rows show prefetched (no query per row).

    ``tag`` is a tag's exact name; ``query`` matches the name or subject,
    ignoring case. Ordering and paging are the caller's (keyset by id).
    """
    campaigns = (
        Campaign.objects.filter(archived_at__isnull=not archived)
        .select_related("smtp_server")
        .prefetch_related("lists", "tags")
    )
    if tag:
        # One tag per filter, so the join yields each campaign at most once.
        campaigns = campaigns.filter(tags__name=tag)
    query = query.strip()[:MAX_QUERY_LENGTH]
    if query:
        campaigns = campaigns.filter(Q(name__icontains=query) | Q(subject__icontains=query))
    return campaigns


def tag_chips() -> list[Tag]:
    """The tags to filter by, those in use, by name."""
    return list(
        Tag.objects.filter(campaigns__isnull=False).distinct().order_by("name")[:MAX_TAG_CHIPS]
    )
