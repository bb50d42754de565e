from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.services import create_list, create_subscriber


def test_adding_a_subscriber_with_lists_and_attributes(
    teammate_client: Client, newsletter: MailingList
) -> None:
    double = create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)
    response = teammate_client.post(
        reverse("subscribers:create"),
        {
            "email": "  Bob@Example.COM ",
            "name": "Bob",
            "attributes": '{"city": "Porto", "plan": "pro"}',
            "lists": [newsletter.pk, double.pk],
        },
        follow=True,
    )
    bob = Subscriber.objects.get()
    assert bob.email == "bob@example.com"
    assert bob.attributes == {"city": "Porto", "plan": "pro"}
    statuses = dict(bob.subscriptions.values_list("mailing_list__name", "status"))
    assert statuses == {"Newsletter": "confirmed", "Insiders": "unconfirmed"}
    assert response.redirect_chain[-1][0] == reverse("subscribers:detail", args=[bob.pk])
    page = response.content.decode()
    assert "Porto" in page and "Insiders" in page and "Unconfirmed" in page


def test_preconfirm_confirms_double_optin_lists(teammate_client: Client, db: None) -> None:
    double = create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)
    teammate_client.post(
        reverse("subscribers:create"),
        {"email": "c@example.com", "lists": [double.pk], "preconfirm": "on"},
    )
    assert Subscription.objects.get().status == Subscription.Status.CONFIRMED


def test_an_invalid_email_is_reported_beside_the_email_field(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(reverse("subscribers:create"), {"email": "not-an-address"})
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == ["Enter a valid email address."]
    html = response.content.decode()
    email_field = html[html.index('id="field-email"') : html.index('id="field-name"')]
    assert "Enter a valid email address." in email_field
    assert not Subscriber.objects.exists()


def test_a_duplicate_subscriber_is_reported_with_a_link_to_the_existing_one(
    teammate_client: Client, alice: Subscriber
) -> None:
    response = teammate_client.post(reverse("subscribers:create"), {"email": "ALICE@example.com"})
    assert response.context["form"].errors["email"] == [
        "A subscriber with the address alice@example.com already exists."
    ]
    assert reverse("subscribers:detail", args=[alice.pk]).encode() in response.content
    assert Subscriber.objects.count() == 1


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ('{"city": ', "Not valid JSON"),
        ('["a", "b"]', "Attributes must be a JSON object."),
    ],
)
def test_bad_attributes_are_reported_beside_the_attributes_field(
    teammate_client: Client, db: None, attributes: str, message: str
) -> None:
    response = teammate_client.post(
        reverse("subscribers:create"), {"email": "d@example.com", "attributes": attributes}
    )
    assert message in " ".join(response.context["form"].errors["attributes"])
    assert not Subscriber.objects.exists()


def test_the_add_form_preselects_the_list_it_came_from(
    teammate_client: Client, newsletter: MailingList
) -> None:
    response = teammate_client.get(reverse("subscribers:create"), {"list": newsletter.pk})
    assert response.context["form"].initial["lists"] == [newsletter.pk]
    assert f'value="{newsletter.pk}"'.encode() in response.content


def test_searching_by_email(teammate_client: Client, alice: Subscriber) -> None:
    create_subscriber(email="bob@example.org")
    response = teammate_client.get(reverse("subscribers:index"), {"q": "ALICE"})
    assert list(response.context["page"].items) == [alice]
    assert b"bob@example.org" not in response.content


def test_a_search_without_results_says_so(teammate_client: Client, alice: Subscriber) -> None:
    response = teammate_client.get(reverse("subscribers:index"), {"q": "nobody"})
    assert "No subscriber matches “nobody”" in response.content.decode()


def test_the_subscribers_page_invites_you_to_add_the_first(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.get(reverse("subscribers:index"))
    assert b"No subscribers yet" in response.content


def test_subscribers_are_paginated_by_keyset_and_keep_the_search(
    teammate_client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("subscribers.views.PAGE_SIZE", 2)
    matching = [create_subscriber(email=f"team{i}@example.com") for i in range(3)]
    create_subscriber(email="other@example.com")

    first = teammate_client.get(reverse("subscribers:index"), {"q": "team"})
    assert list(first.context["page"].items) == matching[:2]
    assert f"q=team&amp;after={matching[1].pk}".encode() in first.content

    second = teammate_client.get(
        reverse("subscribers:index"), {"q": "team", "after": str(matching[1].pk)}
    )
    assert list(second.context["page"].items) == matching[2:]
    assert second.context["page"].next_key is None


def test_the_subscriber_list_does_not_query_per_subscriber(
    teammate_client: Client, newsletter: MailingList, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        create_subscriber(email=f"s{i}@example.com", lists=[newsletter])
    # Session, user, the page, its count, and the lists and segments of the
    # menus: the same for 30 subscribers as for 3.
    with django_assert_max_num_queries(6):
        response = teammate_client.get(reverse("subscribers:index"))
    assert len(response.context["page"].items) == 30
    assert response.context["page"].items[0].list_count == 1


def test_a_subscriber_page_shows_details_attributes_and_subscriptions(
    teammate_client: Client, alice: Subscriber
) -> None:
    response = teammate_client.get(reverse("subscribers:detail", args=[alice.pk]))
    page = response.content.decode()
    assert "alice@example.com" in page
    assert "Lisbon" in page
    assert "Newsletter" in page and "Confirmed" in page


def test_an_unknown_subscriber_is_a_404(teammate_client: Client, db: None) -> None:
    assert teammate_client.get(reverse("subscribers:detail", args=[999])).status_code == 404
