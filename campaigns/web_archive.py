"""The public web archive: campaigns opted in (``Campaign.public_archive``) that
have started sending, each as a web version with sample data in place of a reader's.

Listed newest first by ``started_at`` (when readers got it). That is not
unique, so the keyset is the pair (started_at, id), in one opaque cursor;
never OFFSET. The web version is rendered from the same compiled templates as
the mail (``compiled_for``), with ``sample_context``'s sample subscriber and
links that lead nowhere: no unsubscribe or preferences token of anyone, and
no tracking (open pixels and click redirects are added by the send pipeline,
after rendering, never here).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.db.models import Q, QuerySet
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.rendering import (
    RenderedMessage,
    TemplateValidationError,
    compiled_for,
    sample_context,
)

# Statuses of a campaign that has gone out to readers (at least in part): a
# paused send keeps its page, a cancelled one was withdrawn on purpose.
ARCHIVE_STATUSES = (Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.FINISHED)
# What a template's unsubscribe and preferences links become: a reader of the
# archive has no subscription to manage, and nobody's token may appear.
HARMLESS_LINK = "#"


def archive_enabled() -> bool:
    return bool(settings.POSTINO["PUBLIC_ARCHIVE"])


def archived_publicly() -> QuerySet[Campaign]:
    """Campaigns whose web version is public: opted in and started sending."""
    return Campaign.objects.filter(
        public_archive=True, status__in=ARCHIVE_STATUSES, started_at__isnull=False
    ).select_related("template")


def public_campaign(campaign_id: int) -> Campaign | None:
    if not archive_enabled():
        return None
    return archived_publicly().filter(pk=campaign_id).first()


@dataclass(frozen=True)
class ArchivePage:
    items: list[Campaign]
    # Pass as ``?after=`` for the next (older) page; None on the last one.
    next_cursor: str | None


def encode_cursor(campaign: Campaign) -> str:
    assert campaign.started_at is not None
    micros = int(campaign.started_at.timestamp() * 1_000_000)
    return f"{micros}.{campaign.pk}"


def decode_cursor(raw: str) -> tuple[datetime, int] | None:
    """The (started_at, id) a cursor names; None for junk (the first page)."""
    micros, sep, pk = raw.partition(".")
    if not sep or not micros.isdigit() or not pk.isdigit():
        return None
    try:
        moment = datetime.fromtimestamp(int(micros) / 1_000_000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment, int(pk)


def archive_page(*, after: str = "", size: int = 20) -> ArchivePage:
    """One page of the public archive, newest first, by keyset on (started_at, id)."""
    campaigns = archived_publicly()
    cursor = decode_cursor(after) if after else None
    if cursor is not None:
        moment, pk = cursor
        campaigns = campaigns.filter(Q(started_at__lt=moment) | Q(started_at=moment, pk__lt=pk))
    rows = list(campaigns.order_by("-started_at", "-pk")[: size + 1])
    items = rows[:size]
    return ArchivePage(
        items=items, next_cursor=encode_cursor(items[-1]) if len(rows) > size else None
    )


def web_version(campaign: Campaign, *, page_url: str) -> RenderedMessage:
    """The campaign as the sample subscriber would get it, links made harmless.

    ``page_url`` is the archive page itself, what ``webview_url`` ("view in
    your browser") points at. Raises ``TemplateValidationError`` when the
    templates cannot render with the sample data.
    """
    context = sample_context(campaign_name=campaign.name, campaign_subject=campaign.subject)
    context.update(
        unsubscribe_url=HARMLESS_LINK, preferences_url=HARMLESS_LINK, webview_url=page_url
    )
    return compiled_for(campaign).render(context)


def page_url(campaign: Campaign) -> str:
    """The absolute address of the campaign's archive page (BASE_URL based, as mail links)."""
    return f"{settings.BASE_URL}{reverse('archive:campaign', args=[campaign.pk])}"


@dataclass(frozen=True)
class ArchiveEntry:
    """What the list and the feed show of one campaign: never its internal name."""

    campaign: Campaign
    subject: str
    preheader: str
    url: str


def entry(campaign: Campaign) -> ArchiveEntry:
    """The subject as the sample subscriber would read it; the raw one if it cannot render."""
    url = page_url(campaign)
    try:
        subject = web_version(campaign, page_url=url).subject
    except TemplateValidationError:
        subject = campaign.subject
    return ArchiveEntry(campaign=campaign, subject=subject, preheader=campaign.preheader, url=url)
