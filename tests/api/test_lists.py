"""POST/GET /lists."""

from __future__ import annotations

from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.services import create_subscriber, unsubscribe
from tests.api.client import ApiClient


def test_creating_a_list_answers_201_with_its_id(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/lists", {"name": "Weekly", "optin": "double", "description": "Every Monday"}
    )
    assert response.status_code == 201
    body = response.json()
    created = MailingList.objects.get(pk=body["id"])
    assert (created.name, created.optin, created.description) == (
        "Weekly",
        "double",
        "Every Monday",
    )
    assert body["optin"] == "double"


def test_a_list_is_single_opt_in_unless_told_otherwise(owner_api: ApiClient) -> None:
    response = owner_api.post("/lists", {"name": "Weekly"})
    assert response.json()["optin"] == "single"


def test_a_duplicate_list_name_is_409(owner_api: ApiClient, newsletter: MailingList) -> None:
    response = owner_api.post("/lists", {"name": "newsletter", "optin": "single"})
    assert response.status_code == 409
    assert "already exists" in response.json()["detail"]
    assert MailingList.objects.count() == 1


def test_an_unknown_opt_in_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/lists", {"name": "Weekly", "optin": "triple"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["optin"]


def test_a_blank_name_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/lists", {"name": "  "})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "name"


def test_listing_lists_counts_subscribers_by_status(
    owner_api: ApiClient, newsletter: MailingList, announcements: MailingList
) -> None:
    alice = create_subscriber(email="alice@example.com", lists=[newsletter, announcements])
    create_subscriber(email="bob@example.com", lists=[newsletter])
    unsubscribe(subscriber_id=alice.pk, list_ids=[newsletter.pk])

    response = owner_api.get("/lists")

    assert response.status_code == 200
    by_name = {item["name"]: item for item in response.json()["items"]}
    assert by_name["Newsletter"]["subscribers"] == {
        "confirmed": 1,
        "unconfirmed": 0,
        "unsubscribed": 1,
    }
    assert by_name["Announcements"]["subscribers"] == {
        "confirmed": 0,
        "unconfirmed": 1,
        "unsubscribed": 0,
    }
    assert Subscription.objects.count() == 3


def test_the_api_streams_the_export(owner_api: ApiClient, newsletter: MailingList) -> None:
    subscriber = Subscriber.objects.create(email="ada@example.com")
    Subscription.objects.create(subscriber=subscriber, mailing_list=newsletter)
    response = owner_api.get(f"/lists/{newsletter.pk}/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0].startswith("email,name,status")
    assert lines[1].startswith("ada@example.com,,unconfirmed,")
    assert owner_api.get("/lists/9999/export").status_code == 404
