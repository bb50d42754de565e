"""Reads the API needs beyond the apps' own selectors: exact lookups and keyset pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from campaigns.models import Campaign, CampaignServer, Tag, Template
from delivery.models import SmtpServer
from postino.pagination import KeysetPage, keyset_page
from subscribers.models import MailingList, Segment, Subscriber, Subscription

M = TypeVar("M", bound=Model)


def get_or_404(model: type[M] | QuerySet[M], pk: int) -> M:
    """The row with this id (from ``model``'s manager or the queryset given), or a 404."""
    qs = model if isinstance(model, QuerySet) else model._default_manager.all()
    instance = qs.filter(pk=pk).first()
    if instance is None:
        raise Http404(f"{str(qs.model._meta.verbose_name).capitalize()} {pk} not found.")
    return instance


def lists_by_ids(ids: Iterable[int], *, field: str = "lists") -> list[MailingList]:
    """The lists with these ids, or a ValidationError on ``field`` naming the unknown ones."""
    wanted = list(dict.fromkeys(ids))
    found = {m.pk: m for m in MailingList.objects.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            {field: f"Unknown list id(s): {', '.join(str(pk) for pk in missing)}."}
        )
    return [found[pk] for pk in wanted]


def segments_by_ids(ids: Iterable[int], *, field: str = "segments") -> list[Segment]:
    """The segments with these ids, or a ValidationError on ``field`` naming the unknown ones."""
    wanted = list(dict.fromkeys(ids))
    found = {segment.pk: segment for segment in Segment.objects.filter(pk__in=wanted)}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            {field: f"Unknown segment id(s): {', '.join(str(pk) for pk in missing)}."}
        )
    return [found[pk] for pk in wanted]


def smtp_server_by_id(pk: int | None, *, field: str = "smtp_server") -> SmtpServer | None:
    if pk is None:
        return None
    server = SmtpServer.objects.filter(pk=pk).first()
    if server is None:
        raise ValidationError({field: f"Unknown SMTP server id: {pk}."})
    return server


def smtp_servers_by_ids(ids: Iterable[int], *, field: str) -> dict[int, SmtpServer]:
    """Servers by id, or a ValidationError on ``field`` naming the unknown ids."""
    wanted = list(dict.fromkeys(ids))
    found = SmtpServer.objects.in_bulk(wanted)
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError(
            {field: f"Unknown SMTP server id(s): {', '.join(str(pk) for pk in missing)}."}
        )
    return found


def subscribers_page(*, email: str | None, after: int | None, limit: int) -> KeysetPage[Subscriber]:
    """Up to ``limit`` subscribers by id, and the key of the next page.

    Keyset pagination (``id > after``) stays fast at any depth, unlike OFFSET.
    Subscriptions are prefetched: two queries whatever the page size.
    """
    qs = Subscriber.objects.order_by("id").prefetch_related(
        Prefetch(
            "subscriptions",
            queryset=Subscription.objects.only(
                "id", "subscriber_id", "mailing_list_id", "status"
            ).order_by("mailing_list_id"),
        )
    )
    if email is not None:
        # Addresses are stored lower-cased (subscribers.services.normalize_email).
        qs = qs.filter(email=email.strip().lower())
    return keyset_page(qs, after=after, size=limit)


def campaigns_page(
    *, before: int | None, limit: int, archived: bool | None = None
) -> KeysetPage[Campaign]:
    """Newest first, up to ``limit`` campaigns, keyset-paginated on id.

    ``archived`` None lists every campaign (as before archiving existed); True
    only archived ones, False the others.
    """
    qs = Campaign.objects.order_by("-id")
    if archived is not None:
        qs = qs.filter(archived_at__isnull=not archived)
    qs = qs.prefetch_related(
        Prefetch("lists", queryset=MailingList.objects.only("id")),
        Prefetch("segments", queryset=Segment.objects.only("id")),
        Prefetch("excluded_segments", queryset=Segment.objects.only("id")),
        Prefetch("tags", queryset=Tag.objects.only("id", "name")),
        Prefetch(
            "server_links",
            queryset=CampaignServer.objects.only("id", "campaign_id", "smtp_server_id", "weight"),
        ),
    )
    return keyset_page(qs, after=before, size=limit, descending=True)


def layout_by_id(pk: int | None, *, field: str = "layout") -> Template | None:
    if pk is None:
        return None
    layout = Template.objects.filter(pk=pk).first()
    if layout is None:
        raise ValidationError({field: f"Unknown layout id: {pk}."})
    return layout
