"""A form on a subscriber's page that fails the CSRF check (page open for days,
cookies blocked) ends in a page that still gets the job done."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import Subscriber
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import ORIGIN, active_lists


def unsubscribe_path(subscriber: Subscriber, campaign: Campaign) -> str:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=subscriber.pk, campaign_id=campaign.pk)
    return reverse("public:unsubscribe", args=[token])


def preferences_path(subscriber: Subscriber) -> str:
    token = make_token(Purpose.PREFERENCES, subscriber_id=subscriber.pk)
    return reverse("public:preferences", args=[token])


def test_an_unsubscribe_without_cookies_gets_a_friendly_page_not_a_bare_403(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    response = browser.post(unsubscribe_path(alice, campaign), secure=True, headers=ORIGIN)

    assert response.status_code == 403
    page = response.content.decode()
    assert "Please press the button once more" in page
    assert "cookies are blocked" in page
    assert "CSRF verification failed" not in page
    assert 'name="csrfmiddlewaretoken"' in page, "the retry form carries a fresh token"
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}, "nothing changed yet"


def test_the_cookie_free_button_on_that_page_unsubscribes(
    browser: Client, alice: Subscriber, campaign: Campaign
) -> None:
    page = browser.post(unsubscribe_path(alice, campaign), secure=True, headers=ORIGIN)
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=alice.pk, campaign_id=campaign.pk)
    one_click = reverse("public:one_click", args=[token])
    assert f'action="{one_click}"' in page.content.decode()

    cookieless = Client(enforce_csrf_checks=True)
    response = cookieless.post(
        one_click,
        {"List-Unsubscribe": "One-Click"},
        secure=True,
        headers={**ORIGIN, "Accept": "text/html,application/xhtml+xml"},
    )

    assert response.status_code == 200
    assert "You have been unsubscribed" in response.content.decode()
    assert response["Content-Type"].startswith("text/html")
    assert active_lists(alice) == {"Events"}


def test_a_stale_preferences_form_is_offered_again_with_the_same_choices(
    browser: Client, alice: Subscriber, offers: object
) -> None:
    browser.get(preferences_path(alice), secure=True)  # sets the CSRF cookie
    response = browser.post(
        preferences_path(alice),
        {"csrfmiddlewaretoken": "stale" * 8, "name": "Alice B", "save": "1"},
        secure=True,
        headers=ORIGIN,
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "open for a long time" in page
    assert '<input type="hidden" name="name" value="Alice B">' in page
    assert "Unsubscribe from everything" in page
    alice.refresh_from_db()
    assert alice.name == "Alice"

    # "Try again" posts the same fields with the fresh token: it works.
    token = browser.cookies["csrftoken"].value
    again = browser.post(
        preferences_path(alice),
        {"csrfmiddlewaretoken": token, "name": "Alice B", "save": "1"},
        secure=True,
        headers=ORIGIN,
    )
    assert again.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice B"


def test_a_tampered_link_still_gets_the_invalid_link_page(
    browser: Client, alice: Subscriber
) -> None:
    response = browser.post(
        reverse("public:unsubscribe", args=["1.forged"]), secure=True, headers=ORIGIN
    )
    assert response.status_code == 404
    assert "This link doesn" in response.content.decode()


def test_staff_pages_keep_djangos_own_csrf_failure(teammate: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)
    response = client.post(reverse("subscribers:list_create"), {"name": "X"}, secure=True)
    assert response.status_code == 403
    assert "CSRF verification failed" in response.content.decode()
