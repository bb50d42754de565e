"""The variables a campaign template sees for one recipient, with signed links."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token

_LINK_SLOT = "LINK-SLOT"


@lru_cache(maxsize=8)
def _path(name: str) -> tuple[str, str]:
    """The URL path around a link's token, resolved once per process."""
    before, _, after = reverse(name, args=[_LINK_SLOT]).partition(_LINK_SLOT)
    return before, after


def _url(name: str, token: str) -> str:
    before, after = _path(name)
    return f"{settings.BASE_URL}{before}{token}{after}"


def subscriber_links(*, subscriber_id: int, campaign_id: int | None) -> dict[str, str]:
    """Absolute, signed URLs for the links in a message (BASE_URL based)."""
    unsubscribe = make_token(
        Purpose.UNSUBSCRIBE, subscriber_id=subscriber_id, campaign_id=campaign_id
    )
    preferences = make_token(
        Purpose.PREFERENCES, subscriber_id=subscriber_id, campaign_id=campaign_id
    )
    webview = make_token(Purpose.WEBVIEW, subscriber_id=subscriber_id, campaign_id=campaign_id)
    return {
        "unsubscribe_url": _url("public:unsubscribe", unsubscribe),
        "one_click_url": _url("public:one_click", unsubscribe),
        "preferences_url": _url("public:preferences", preferences),
        "webview_url": _url("public:webview", webview),
    }


def build_context(
    campaign: Campaign, subscriber: Subscriber, links: dict[str, str] | None = None
) -> dict[str, Any]:
    """Template variables for one recipient. ``links`` may be precomputed."""
    if links is None:
        links = subscriber_links(subscriber_id=subscriber.pk, campaign_id=campaign.pk)
    return {
        "subscriber": {
            "id": subscriber.pk,
            "email": subscriber.email,
            "name": subscriber.name,
            "attributes": subscriber.attributes or {},
        },
        "campaign": {"id": campaign.pk, "name": campaign.name, "subject": campaign.subject},
        "unsubscribe_url": links["unsubscribe_url"],
        "preferences_url": links["preferences_url"],
        "webview_url": links["webview_url"],
    }
