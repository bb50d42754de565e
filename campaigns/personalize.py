"""The variables a campaign template sees for one recipient, with signed links."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token


def subscriber_links(*, subscriber_id: int, campaign_id: int | None) -> dict[str, str]:
    """Absolute, signed URLs for the links in a message (BASE_URL based)."""
    base = settings.BASE_URL

    def url(name: str, purpose: Purpose) -> str:
        token = make_token(purpose, subscriber_id=subscriber_id, campaign_id=campaign_id)
        return base + reverse(name, args=[token])

    return {
        "unsubscribe_url": url("public:unsubscribe", Purpose.UNSUBSCRIBE),
        "one_click_url": url("public:one_click", Purpose.UNSUBSCRIBE),
        "preferences_url": url("public:preferences", Purpose.PREFERENCES),
        "webview_url": url("public:webview", Purpose.WEBVIEW),
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
