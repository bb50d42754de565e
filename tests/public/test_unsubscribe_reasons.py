"""Why people leave: the unsubscribe page and the preference centre ask,
optionally, and the reason is written on the unsubscribe rows themselves."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers import consent
from subscribers.models import REASON_TEXT_MAX_LENGTH, ConsentEvent, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import ORIGIN, active_lists

EVERYTHING = {"Newsletter", "Offers", "Events"}


def unsubscribe_url(subscriber: Subscriber, campaign: Campaign) -> str:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=subscriber.pk, campaign_id=campaign.pk)
    return reverse("public:unsubscribe", args=[token])


def preferences_url(subscriber: Subscriber, campaign: Campaign) -> str:
    token = make_token(Purpose.PREFERENCES, subscriber_id=subscriber.pk, campaign_id=campaign.pk)
    return reverse("public:preferences", args=[token])


def post_form(browser: Client, url: str, data: dict[str, str]) -> object:
    """GET the page, then POST its form with the CSRF token and ``data``, as a browser does."""
    page = browser.get(url, secure=True).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf, "the page has a CSRF-protected form"
    return browser.post(
        url, {"csrfmiddlewaretoken": csrf.group(1), **data}, secure=True, headers=ORIGIN
    )


def unsubscribes() -> set[tuple[str, str, str, int | None]]:
    return set(
        ConsentEvent.objects.filter(kind="unsubscribed").values_list(
            "reason", "reason_text", "note", "campaign_id"
        )
    )


def test_the_unsubscribe_page_offers_the_reasons_and_changes_nothing(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    page = browser.get(unsubscribe_url(alice, campaign), secure=True).content.decode()
    assert "Why (optional)" in page
    for code, label in ConsentEvent.Reason.choices:
        assert f'value="{code}">{label}</option>' in page
    assert f'maxlength="{REASON_TEXT_MAX_LENGTH}"' in page
    assert active_lists(alice) == EVERYTHING


def test_unsubscribing_with_a_reason_writes_it_on_each_row_with_the_campaign(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = post_form(
        browser,
        unsubscribe_url(alice, campaign),
        {"reason": "too_many", "reason_text": "  Weekly would do  "},
    )
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert "You have been unsubscribed" in response.content.decode()  # type: ignore[attr-defined]
    assert active_lists(alice) == {"Events"}
    assert ConsentEvent.objects.filter(kind="unsubscribed").count() == 2  # Newsletter, Offers
    assert unsubscribes() == {("too_many", "Weekly would do", "", campaign.pk)}


def test_unsubscribing_without_a_reason_is_the_same_one_step(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = post_form(browser, unsubscribe_url(alice, campaign), {})
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert active_lists(alice) == {"Events"}
    assert unsubscribes() == {("", "", "", campaign.pk)}


def test_an_unknown_reason_is_400_with_a_message_and_unsubscribes_nobody(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = post_form(browser, unsubscribe_url(alice, campaign), {"reason": "spam"})
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "Choose one of the reasons listed, or none." in page
    assert "<button" in page, "the button is still there to try again"
    assert active_lists(alice) == EVERYTHING
    assert unsubscribes() == set()


def test_too_long_a_reason_is_400_with_a_message_and_unsubscribes_nobody(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = post_form(
        browser,
        unsubscribe_url(alice, campaign),
        {"reason": "other", "reason_text": "x" * (REASON_TEXT_MAX_LENGTH + 1)},
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert (
        f"at most {REASON_TEXT_MAX_LENGTH} characters" in response.content.decode()  # type: ignore[attr-defined]
    )
    assert active_lists(alice) == EVERYTHING


def test_a_second_unsubscribe_records_no_second_reason(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    """The page open in two tabs: the second press finds nothing left to end."""
    url = unsubscribe_url(alice, campaign)
    page = browser.get(url, secure=True).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf
    for data in ({"reason": "too_many"}, {"reason": "other", "reason_text": "Changed my mind"}):
        response = browser.post(
            url, {"csrfmiddlewaretoken": csrf.group(1), **data}, secure=True, headers=ORIGIN
        )
        assert response.status_code == 200
    assert unsubscribes() == {("too_many", "", "", campaign.pk)}


def test_the_one_click_endpoint_takes_no_reason(alice: Subscriber, campaign: Campaign) -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=alice.pk, campaign_id=campaign.pk)
    response = Client().post(
        reverse("public:one_click", args=[token]),
        {"List-Unsubscribe": "One-Click", "reason": "never_asked", "reason_text": "hi"},
        secure=True,
    )
    assert response.status_code == 200
    assert unsubscribes() == {("", "", "One-click (RFC 8058)", campaign.pk)}


def test_a_csrf_retry_keeps_the_reason_the_person_gave(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    url = unsubscribe_url(alice, campaign)
    refused = browser.post(
        url, {"reason": "not_relevant", "reason_text": "Too salesy"}, secure=True, headers=ORIGIN
    )
    assert refused.status_code == 403
    page = refused.content.decode()
    fields = dict(re.findall(r'<input type="hidden" name="(reason\w*)" value="([^"]*)"', page))
    assert fields == {"reason": "not_relevant", "reason_text": "Too salesy"}
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf
    browser.post(url, {"csrfmiddlewaretoken": csrf.group(1), **fields}, secure=True, headers=ORIGIN)
    assert unsubscribes() == {("not_relevant", "Too salesy", "", campaign.pk)}


def test_the_preference_centre_records_the_reason_with_its_campaign(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    post_form(
        browser,
        preferences_url(alice, campaign),
        {"unsubscribe_all": "1", "reason": "never_asked"},
    )
    assert active_lists(alice) == set()
    assert unsubscribes() == {("never_asked", "", "", campaign.pk)}


def test_the_preference_centre_refuses_an_unknown_reason_with_a_message(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = post_form(
        browser, preferences_url(alice, campaign), {"unsubscribe_all": "1", "reason": "bored"}
    )
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "Choose one of the reasons listed, or none." in response.content.decode()  # type: ignore[attr-defined]
    assert active_lists(alice) == EVERYTHING


def test_a_reason_no_form_would_accept_cannot_reach_the_ledger() -> None:
    with pytest.raises(ValueError, match="unknown unsubscribe reason"):
        consent.GivenReason(code="bored")
    with pytest.raises(ValueError, match="at most"):
        consent.GivenReason(code="other", text="x" * (REASON_TEXT_MAX_LENGTH + 1))
