from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.services import create_list, create_subscriber


def test_the_lists_page_invites_you_to_create_the_first_list(teammate_client: Client) -> None:
    response = teammate_client.get(reverse("subscribers:list_index"))
    assert b"No lists yet" in response.content
    assert reverse("subscribers:list_create").encode() in response.content


def test_lists_show_their_counts(teammate_client: Client, newsletter: MailingList) -> None:
    double = create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)
    create_subscriber(email="a@example.com", lists=[newsletter, double])
    create_subscriber(email="b@example.com", lists=[newsletter])
    response = teammate_client.get(reverse("subscribers:list_index"))
    lists = {ml.name: ml for ml in response.context["lists"]}
    assert lists["Newsletter"].confirmed_count == 2
    assert lists["Insiders"].unconfirmed_count == 1
    assert b"Double opt-in" in response.content


def test_creating_a_list_redirects_to_it(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("subscribers:list_create"),
        {"name": "Product updates", "optin": "double", "description": "What we ship"},
        follow=True,
    )
    created = MailingList.objects.get(name="Product updates")
    assert created.optin == MailingList.OptIn.DOUBLE
    assert response.redirect_chain[-1][0] == reverse("subscribers:list_detail", args=[created.pk])
    assert "List “Product updates” created." in response.content.decode()


def test_a_duplicate_list_name_is_reported_beside_the_name(
    teammate_client: Client, newsletter: MailingList
) -> None:
    response = teammate_client.post(
        reverse("subscribers:list_create"), {"name": "newsletter", "optin": "single"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["name"] == ["A list with this name already exists."]
    assert MailingList.objects.count() == 1


def test_a_blank_list_name_is_reported_beside_the_name(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("subscribers:list_create"), {"name": "   ", "optin": "single"}
    )
    assert "name" in response.context["form"].errors
    assert not MailingList.objects.exists()


def _members(count: int, mailing_list: MailingList) -> list[Subscriber]:
    return [
        create_subscriber(email=f"member{i:03}@example.com", lists=[mailing_list])
        for i in range(count)
    ]


def test_list_members_are_paginated_by_keyset(
    teammate_client: Client, newsletter: MailingList, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("subscribers.views.PAGE_SIZE", 3)
    members = _members(7, newsletter)
    url = reverse("subscribers:list_detail", args=[newsletter.pk])

    first = teammate_client.get(url)
    assert [m.subscriber for m in first.context["page"].items] == members[:3]
    assert first.context["page"].next_key == members[2].pk
    assert f"after={members[2].pk}".encode() in first.content

    second = teammate_client.get(url, {"after": members[2].pk})
    assert [m.subscriber for m in second.context["page"].items] == members[3:6]

    last = teammate_client.get(url, {"after": members[5].pk})
    assert [m.subscriber for m in last.context["page"].items] == members[6:]
    assert last.context["page"].next_key is None
    assert b'rel="next"' not in last.content


def test_list_members_can_be_filtered_by_status(
    teammate_client: Client, newsletter: MailingList
) -> None:
    kept, gone = _members(2, newsletter)
    Subscription.objects.filter(subscriber=gone).update(status=Subscription.Status.UNSUBSCRIBED)
    response = teammate_client.get(
        reverse("subscribers:list_detail", args=[newsletter.pk]), {"status": "unsubscribed"}
    )
    assert [m.subscriber for m in response.context["page"].items] == [gone]
    assert kept.email.encode() not in response.content


def test_the_members_page_does_not_query_per_member(
    teammate_client: Client, newsletter: MailingList, django_assert_max_num_queries: Any
) -> None:
    _members(30, newsletter)
    url = reverse("subscribers:list_detail", args=[newsletter.pk])
    # session + user + list with counts + one page of members (+ savepoints)
    with django_assert_max_num_queries(6):
        response = teammate_client.get(url)
    assert len(response.context["page"].items) == 30
