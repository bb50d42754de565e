"""The public web archive as an RSS feed (Django's syndication framework).

The same campaigns as the archive's list (``campaigns.web_archive``), newest
first: title the subject as the sample subscriber reads it, link the archive
page, date when sending started, description the preheader (the subject when
there is none). Never the campaign's internal name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.cache import patch_cache_control

from campaigns import web_archive
from campaigns.archive_views import CACHE_SECONDS

FEED_ITEMS = 20


class ArchiveFeed(Feed):
    title = "Newsletter archive"
    description = "Campaigns as they were sent, with sample data in place of a reader's."

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not web_archive.archive_enabled():
            raise Http404("The archive is turned off.")
        response = super().__call__(request, *args, **kwargs)
        patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
        return response

    def link(self) -> str:
        return reverse("archive:index")

    def items(self) -> list[web_archive.ArchiveEntry]:
        page = web_archive.archive_page(size=FEED_ITEMS)
        return [web_archive.entry(campaign) for campaign in page.items]

    def item_title(self, item: web_archive.ArchiveEntry) -> str:
        return item.subject

    def item_description(self, item: web_archive.ArchiveEntry) -> str:
        return item.preheader or item.subject

    def item_link(self, item: web_archive.ArchiveEntry) -> str:
        return item.url

    def item_pubdate(self, item: web_archive.ArchiveEntry) -> datetime | None:
        return item.campaign.started_at
