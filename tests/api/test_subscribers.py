"""POST/GET /subscribers."""

from __future__ import annotations

from typing import Any

import pytest

from subscribers.models import MailingList, Subscriber
from subscribers.services import create_subscriber
from tests.api.client import ApiClient


def fields_in_error(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


def test_creating_a_subscriber_answers_201_with_its_id(
    owner_api: ApiClient, newsletter: MailingList, announcements: MailingList
) -> None:
    response = owner_api.post(
        "/subscribers",
        {
            "email": "Alice@Example.com",
            "name": "Alice",
            "attributes": {"city": "Lyon"},
            "lists": [newsletter.pk, announcements.pk],
            "preconfirm": True,
        },
    )
    assert response.status_code == 201
    alice = Subscriber.objects.get(pk=response.json()["id"])
    assert (alice.email, alice.name, alice.attributes) == (
        "alice@example.com",
        "Alice",
        {"city": "Lyon"},
    )
    assert set(alice.subscriptions.values_list("status", flat=True)) == {"confirmed"}


def test_without_preconfirm_a_double_opt_in_list_waits_for_confirmation(
    owner_api: ApiClient, announcements: MailingList
) -> None:
    response = owner_api.post(
        "/subscribers", {"email": "alice@example.com", "lists": [announcements.pk]}
    )
    assert response.json()["subscriptions"] == [{"list": announcements.pk, "status": "unconfirmed"}]


def test_a_duplicate_email_is_409(owner_api: ApiClient) -> None:
    existing = create_subscriber(email="alice@example.com")
    response = owner_api.post("/subscribers", {"email": "ALICE@example.com"})
    assert response.status_code == 409
    assert response.json()["existing_id"] == existing.pk
    assert fields_in_error(response) == ["email"]


def test_an_invalid_email_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/subscribers", {"email": "not an address"})
    assert response.status_code == 400
    assert fields_in_error(response) == ["email"]
    assert not Subscriber.objects.exists()


def test_a_missing_email_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/subscribers", {"name": "Alice"})
    assert response.status_code == 400
    assert fields_in_error(response) == ["email"]


def test_an_unknown_list_is_400_naming_it_and_creates_nobody(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    response = owner_api.post(
        "/subscribers", {"email": "alice@example.com", "lists": [newsletter.pk, 999999]}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "lists", "message": "Unknown list id(s): 999999."}
    ]
    assert not Subscriber.objects.exists()


def test_attributes_must_be_an_object(owner_api: ApiClient) -> None:
    response = owner_api.post("/subscribers", {"email": "a@example.com", "attributes": [1]})
    assert response.status_code == 400
    assert fields_in_error(response) == ["attributes"]


def test_finding_a_subscriber_by_email_shows_their_subscriptions(
    owner_api: ApiClient, newsletter: MailingList, announcements: MailingList
) -> None:
    alice = create_subscriber(email="alice@example.com", lists=[newsletter, announcements])
    create_subscriber(email="malice@example.com", lists=[newsletter])

    response = owner_api.get("/subscribers", {"email": "Alice@Example.com"})

    assert response.status_code == 200
    [found] = response.json()["items"]
    assert found["id"] == alice.pk
    assert {(s["list"], s["status"]) for s in found["subscriptions"]} == {
        (newsletter.pk, "confirmed"),
        (announcements.pk, "unconfirmed"),
    }


def test_finding_an_unknown_email_returns_no_subscribers(owner_api: ApiClient) -> None:
    response = owner_api.get("/subscribers", {"email": "nobody@example.com"})
    assert response.json() == {"items": [], "next_after": None}


@pytest.mark.parametrize("how_many", [1, 30])
def test_listing_subscribers_takes_a_bounded_number_of_queries(
    owner_api: ApiClient,
    newsletter: MailingList,
    django_assert_max_num_queries: Any,
    how_many: int,
) -> None:
    for n in range(how_many):
        create_subscriber(email=f"s{n}@example.com", lists=[newsletter])
    # Token lookup, last-used update, subscribers, their subscriptions.
    with django_assert_max_num_queries(4):
        response = owner_api.get("/subscribers", {"limit": 100})
    assert len(response.json()["items"]) == how_many
    with django_assert_max_num_queries(4):
        owner_api.get("/subscribers", {"email": "s0@example.com"})


def test_subscribers_are_paginated_by_id(owner_api: ApiClient) -> None:
    ids = [create_subscriber(email=f"s{n}@example.com").pk for n in range(5)]

    first = owner_api.get("/subscribers", {"limit": 2}).json()
    second = owner_api.get("/subscribers", {"limit": 2, "after": first["next_after"]}).json()
    last = owner_api.get("/subscribers", {"limit": 2, "after": second["next_after"]}).json()

    assert [s["id"] for s in first["items"]] == ids[:2]
    assert [s["id"] for s in second["items"]] == ids[2:4]
    assert [s["id"] for s in last["items"]] == ids[4:]
    assert last["next_after"] is None


def test_a_page_size_out_of_range_is_400_naming_the_parameter(owner_api: ApiClient) -> None:
    response = owner_api.get("/subscribers", {"limit": 0})
    assert response.status_code == 400
    assert fields_in_error(response) == ["limit"]
