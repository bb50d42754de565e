"""RFC 8058 one-click unsubscribe: a POST from the mail provider, not a browser."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import active_lists


def one_click_url(subscriber: Subscriber, campaign: Campaign) -> str:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=subscriber.pk, campaign_id=campaign.pk)
    return reverse("public:one_click", args=[token])


def provider() -> Client:
    """No cookies, no CSRF token, and CSRF checks enforced: what a mail provider sends."""
    return Client(enforce_csrf_checks=True)


def test_one_click_unsubscribes_without_cookies_or_csrf_and_answers_200(
    alice: Subscriber, campaign: Campaign
) -> None:
    response = provider().post(
        one_click_url(alice, campaign), {"List-Unsubscribe": "One-Click"}, secure=True
    )
    assert response.status_code == 200
    assert not response.cookies
    assert active_lists(alice) == {"Events"}


def test_one_click_accepts_a_urlencoded_body(alice: Subscriber, campaign: Campaign) -> None:
    response = provider().post(
        one_click_url(alice, campaign),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        secure=True,
    )
    assert response.status_code == 200
    assert active_lists(alice) == {"Events"}


def test_one_click_twice_is_still_200(alice: Subscriber, campaign: Campaign) -> None:
    url = one_click_url(alice, campaign)
    provider().post(url, {"List-Unsubscribe": "One-Click"}, secure=True)
    assert provider().post(url, {"List-Unsubscribe": "One-Click"}, secure=True).status_code == 200


def test_a_post_without_the_one_click_body_is_400_and_changes_nothing(
    alice: Subscriber, campaign: Campaign
) -> None:
    response = provider().post(one_click_url(alice, campaign), {}, secure=True)
    assert response.status_code == 400
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}


def test_opening_the_one_click_link_never_unsubscribes(
    alice: Subscriber, campaign: Campaign
) -> None:
    response = provider().get(one_click_url(alice, campaign), secure=True)
    assert response.status_code == 200
    assert "Unsubscribe alice@example.com?" in response.content.decode()
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}


def test_a_tampered_one_click_link_is_404_and_changes_nothing(
    alice: Subscriber, campaign: Campaign
) -> None:
    url = one_click_url(alice, campaign)
    tampered = url.replace("/one-click/", "/one-click/0")
    response = provider().post(tampered, {"List-Unsubscribe": "One-Click"}, secure=True)
    assert response.status_code == 404
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}
