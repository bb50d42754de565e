"""The "view in browser" link: the campaign as this subscriber got it, without scripts."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token


def webview_url(subscriber: Subscriber, campaign: Campaign | None) -> str:
    token = make_token(
        Purpose.WEBVIEW, subscriber_id=subscriber.pk, campaign_id=campaign.pk if campaign else None
    )
    return reverse("public:webview", args=[token])


def test_the_web_view_renders_the_campaign_personalised(
    alice: Subscriber, campaign: Campaign
) -> None:
    response = Client().get(webview_url(alice, campaign), secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<p>Hello Alice from Lyon</p>" in page
    assert "/s/unsubscribe/" in page


def test_the_web_view_forbids_scripts(alice: Subscriber, campaign: Campaign) -> None:
    response = Client().get(webview_url(alice, campaign), secure=True)
    policy = response["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "sandbox" in policy
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_web_view_token_without_a_campaign_is_404(alice: Subscriber) -> None:
    assert Client().get(webview_url(alice, None), secure=True).status_code == 404


def test_an_unsubscribe_token_does_not_open_the_web_view(
    alice: Subscriber, campaign: Campaign
) -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=alice.pk, campaign_id=campaign.pk)
    response = Client().get(reverse("public:webview", args=[token]), secure=True)
    assert response.status_code == 404
