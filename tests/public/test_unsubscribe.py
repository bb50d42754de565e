"""The unsubscribe link in every email: confirm on GET, act on POST."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import ORIGIN, active_lists

EVERYTHING = {"Newsletter", "Offers", "Events"}


def unsubscribe_url(subscriber: Subscriber, campaign: Campaign | None = None) -> str:
    token = make_token(
        Purpose.UNSUBSCRIBE,
        subscriber_id=subscriber.pk,
        campaign_id=campaign.pk if campaign else None,
    )
    return reverse("public:unsubscribe", args=[token])


def submit_form(browser: Client, url: str) -> object:
    """GET the page, then POST its form with the CSRF token, as a browser does."""
    page = browser.get(url, secure=True)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert csrf, "the page has a CSRF-protected form"
    return browser.post(url, {"csrfmiddlewaretoken": csrf.group(1)}, secure=True, headers=ORIGIN)


def test_opening_the_link_asks_for_confirmation_and_changes_nothing(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = browser.get(unsubscribe_url(alice, campaign), secure=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Newsletter" in page and "Offers" in page
    assert "Events" not in page
    assert active_lists(alice) == EVERYTHING


def test_confirming_unsubscribes_only_from_the_campaigns_lists(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = submit_form(browser, unsubscribe_url(alice, campaign))
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "You have been unsubscribed" in response.content.decode()  # type: ignore[attr-defined]
    assert active_lists(alice) == {"Events"}


def test_the_done_page_links_to_the_preferences(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = submit_form(browser, unsubscribe_url(alice, campaign))
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "/s/preferences/" in page


def test_a_link_without_a_campaign_unsubscribes_from_every_list(
    browser: Client, alice: Subscriber
) -> None:
    submit_form(browser, unsubscribe_url(alice))
    assert active_lists(alice) == set()


def test_confirming_without_a_csrf_token_is_refused(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = browser.post(unsubscribe_url(alice, campaign), secure=True, headers=ORIGIN)
    assert response.status_code == 403
    assert active_lists(alice) == EVERYTHING


def test_a_tampered_link_is_404_and_changes_nothing(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    url = unsubscribe_url(alice, campaign)
    flipped = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]
    assert browser.get(flipped, secure=True).status_code == 404
    response = Client().post(flipped, secure=True)
    assert response.status_code == 404
    assert "This link doesn" in response.content.decode()
    assert active_lists(alice) == EVERYTHING


def test_a_truncated_link_is_404(browser: Client, alice: Subscriber, campaign: Campaign) -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=alice.pk, campaign_id=campaign.pk)
    url = reverse("public:unsubscribe", args=[token[:-5]])
    assert Client().post(url, secure=True).status_code == 404
    assert active_lists(alice) == EVERYTHING


@pytest.mark.parametrize("purpose", [Purpose.PREFERENCES, Purpose.WEBVIEW])
def test_a_token_minted_for_another_purpose_is_404(
    alice: Subscriber, campaign: Campaign, purpose: Purpose
) -> None:
    token = make_token(purpose, subscriber_id=alice.pk, campaign_id=campaign.pk)
    for name in ("public:unsubscribe", "public:one_click"):
        response = Client().post(
            reverse(name, args=[token]), {"List-Unsubscribe": "One-Click"}, secure=True
        )
        assert response.status_code == 404
    assert active_lists(alice) == EVERYTHING


def test_public_pages_are_not_indexed_and_do_not_leak_the_token(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = browser.get(unsubscribe_url(alice, campaign), secure=True)
    assert response["X-Robots-Tag"].startswith("noindex")
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_the_page_has_no_marketer_navigation(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    page = browser.get(unsubscribe_url(alice, campaign), secure=True).content.decode()
    assert "/logout/" not in page and "/campaigns/" not in page


def test_a_link_for_a_deleted_subscriber_is_404(alice: Subscriber, campaign: Campaign) -> None:
    url = unsubscribe_url(alice, campaign)
    alice.delete()
    assert Client().get(url, secure=True).status_code == 404


def test_a_link_whose_campaign_was_deleted_unsubscribes_from_every_list(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    url = unsubscribe_url(alice, campaign)
    campaign.delete()
    submit_form(browser, url)
    assert active_lists(alice) == set()
