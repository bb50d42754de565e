"""The preferences page: rename oneself, leave some lists, or leave them all."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from subscribers.models import MailingList, Subscriber
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import ORIGIN, active_lists


def preferences_url(subscriber: Subscriber) -> str:
    token = make_token(Purpose.PREFERENCES, subscriber_id=subscriber.pk)
    return reverse("public:preferences", args=[token])


def csrf_token(browser: Client, url: str) -> str:
    page = browser.get(url, secure=True).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_the_page_shows_the_name_and_the_lists_ticked(browser: Client, alice: Subscriber) -> None:
    response = browser.get(preferences_url(alice), secure=True)
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Alice"' in page
    assert page.count("checked") == 3
    assert "Unsubscribe from everything" in page


def test_saving_renames_and_leaves_the_unticked_lists(
    browser: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    url = preferences_url(alice)
    response = browser.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token(browser, url),
            "name": "Alice B.",
            "lists": [newsletter.pk],
        },
        secure=True,
        headers=ORIGIN,
    )
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.name == "Alice B."
    assert active_lists(alice) == {"Newsletter"}
    assert "have been saved" in browser.get(response["Location"], secure=True).content.decode()


def test_unsubscribing_from_everything_leaves_every_list(
    browser: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    url = preferences_url(alice)
    browser.post(
        url,
        {
            "csrfmiddlewaretoken": csrf_token(browser, url),
            "name": "Alice",
            "lists": [newsletter.pk],
            "unsubscribe_all": "1",
        },
        secure=True,
        headers=ORIGIN,
    )
    assert active_lists(alice) == set()


def test_the_page_cannot_join_a_list_one_is_not_on(
    browser: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    secret = MailingList.objects.create(name="Staff only")
    url = preferences_url(alice)
    response = browser.post(
        url,
        {"csrfmiddlewaretoken": csrf_token(browser, url), "name": "Alice", "lists": [secret.pk]},
        secure=True,
        headers=ORIGIN,
    )
    assert response.status_code == 400
    assert "Staff only" not in active_lists(alice)
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}


def test_saving_without_a_csrf_token_is_refused(browser: Client, alice: Subscriber) -> None:
    response = browser.post(
        preferences_url(alice), {"name": "Mallory"}, secure=True, headers=ORIGIN
    )
    assert response.status_code == 403
    alice.refresh_from_db()
    assert alice.name == "Alice"


def test_an_unsubscribe_token_does_not_open_the_preferences(alice: Subscriber) -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=alice.pk)
    response = Client().get(reverse("public:preferences", args=[token]), secure=True)
    assert response.status_code == 404
