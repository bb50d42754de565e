"""Editing and deleting subscribers and lists in the marketer UI."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.services import create_list, create_subscriber


def test_the_edit_form_starts_from_the_subscriber(
    teammate_client: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    form = teammate_client.get(reverse("subscribers:edit", args=[alice.pk])).context["form"]
    assert form["email"].value() == "alice@example.com"
    assert form["lists"].value() == [newsletter.pk]
    assert '"city": "Lisbon"' in form["attributes"].value()
    assert form["status"].value() == "enabled"


def test_saving_an_edit(
    teammate_client: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    insiders = create_list(name="Insiders")
    response = teammate_client.post(
        reverse("subscribers:edit", args=[alice.pk]),
        {
            "email": "Alice.B@Example.com",
            "name": "Alice B",
            "attributes": '{"city": "Porto"}',
            "status": "blocklisted",
            "lists": [insiders.pk],
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("subscribers:detail", args=[alice.pk])
    alice.refresh_from_db()
    assert (alice.email, alice.name, alice.attributes, alice.status) == (
        "alice.b@example.com", "Alice B", {"city": "Porto"}, "blocklisted",
    )  # fmt: skip
    states = dict(alice.subscriptions.values_list("mailing_list__name", "status"))
    assert states == {"Newsletter": "unsubscribed", "Insiders": "confirmed"}


def test_an_address_taken_by_another_subscriber_is_shown_beside_the_email(
    teammate_client: Client, alice: Subscriber
) -> None:
    bob = create_subscriber(email="bob@example.com")
    response = teammate_client.post(
        reverse("subscribers:edit", args=[bob.pk]),
        {"email": "ALICE@example.com", "status": "enabled"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Another subscriber already has the address alice@example.com."
    ]
    assert response.context["duplicate_id"] == alice.pk
    bob.refresh_from_db()
    assert bob.email == "bob@example.com"


def test_attributes_that_are_not_an_object_are_refused(
    teammate_client: Client, alice: Subscriber
) -> None:
    response = teammate_client.post(
        reverse("subscribers:edit", args=[alice.pk]),
        {"email": alice.email, "status": "enabled", "attributes": "[1, 2]"},
    )
    assert response.context["form"].errors["attributes"] == ["Attributes must be a JSON object."]


def test_the_delete_page_explains_and_the_post_deletes(
    teammate_client: Client, alice: Subscriber
) -> None:
    url = reverse("subscribers:delete", args=[alice.pk])
    page = teammate_client.get(url).content.decode()
    assert "Delete alice@example.com?" in page
    assert "No campaign has been sent to them" in page
    assert "suppression still applies" in page
    assert Subscriber.objects.filter(pk=alice.pk).exists()

    response = teammate_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("subscribers:index")
    assert "Subscriber alice@example.com deleted." in response.content.decode()
    assert not Subscriber.objects.filter(pk=alice.pk).exists()


def test_the_list_edit_form_and_a_duplicate_name(
    teammate_client: Client, newsletter: MailingList
) -> None:
    create_list(name="Offers")
    url = reverse("subscribers:list_edit", args=[newsletter.pk])
    assert teammate_client.get(url).context["form"]["name"].value() == "Newsletter"
    response = teammate_client.post(url, {"name": "offers", "optin": "single"})
    assert response.context["form"].errors["name"] == ["Another list already has this name."]
    teammate_client.post(url, {"name": "News", "optin": "double", "description": "All of it"})
    newsletter.refresh_from_db()
    assert (newsletter.name, newsletter.optin, newsletter.description) == (
        "News", "double", "All of it",
    )  # fmt: skip


def test_the_list_delete_page_says_what_happens_then_deletes(
    teammate_client: Client, newsletter: MailingList, alice: Subscriber, campaign: Campaign
) -> None:
    url = reverse("subscribers:list_delete", args=[newsletter.pk])
    page = teammate_client.get(url).content.decode()
    assert "Its 1 subscription is deleted." in page
    assert "The subscribers themselves stay" in page
    assert "Draft campaigns lose it from their lists: “Spring news”." in page

    teammate_client.post(url)
    assert not MailingList.objects.filter(pk=newsletter.pk).exists()
    assert Subscriber.objects.filter(pk=alice.pk).exists()
    assert not Subscription.objects.exists()
    assert not campaign.lists.exists()


def test_a_list_a_scheduled_campaign_needs_is_refused_with_the_reason(
    teammate_client: Client, newsletter: MailingList, campaign: Campaign
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SCHEDULED)
    url = reverse("subscribers:list_delete", args=[newsletter.pk])
    page = teammate_client.get(url).content.decode()
    assert "“Spring news” is scheduled or sending to this list" in page
    assert "Delete list</button>" not in page
    response = teammate_client.post(url, follow=True)
    assert "Cannot delete: the list “Newsletter” is used by “Spring news”" in (
        response.content.decode()
    )
    assert MailingList.objects.filter(pk=newsletter.pk).exists()


def test_search_by_name_and_its_label(teammate_client: Client, alice: Subscriber) -> None:
    create_subscriber(email="bob@example.com", name="Bob")
    response = teammate_client.get(reverse("subscribers:index"), {"q": "ALIC"})
    assert [s.email for s in response.context["page"].items] == ["alice@example.com"]
    assert 'placeholder="Search by email or name…"' in response.content.decode()


def test_the_subscriber_index_stays_at_a_fixed_number_of_queries(
    teammate_client: Client, newsletter: MailingList, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        create_subscriber(email=f"p{i}@example.com", name=f"Person {i}", lists=[newsletter])
    # Session, user, lists and segments for the menus, the page, its count.
    with django_assert_max_num_queries(6):
        response = teammate_client.get(reverse("subscribers:index"), {"q": "person"})
    assert len(response.context["page"].items) == 30


@pytest.mark.parametrize("name", ["edit", "delete"])
def test_unknown_subscribers_are_404(teammate_client: Client, db: None, name: str) -> None:
    assert teammate_client.get(reverse(f"subscribers:{name}", args=[999])).status_code == 404
