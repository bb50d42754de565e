"""GET/PATCH/DELETE /subscribers/{id} and GET/PATCH/DELETE /lists/{id}."""

from __future__ import annotations

from typing import Any

import pytest

from bounces.models import Suppression
from campaigns.models import Campaign
from campaigns.services import create_campaign, snapshot_audience
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.services import create_list, create_subscriber
from tests.api.client import ApiClient


def fields_in_error(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


@pytest.fixture
def alice(newsletter: MailingList) -> Subscriber:
    return create_subscriber(
        email="alice@example.com", name="Alice", attributes={"city": "Lyon"}, lists=[newsletter]
    )


def test_reading_a_subscriber(
    owner_api: ApiClient, alice: Subscriber, newsletter: MailingList
) -> None:
    response = owner_api.get(f"/subscribers/{alice.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["email"], body["attributes"]) == ("alice@example.com", {"city": "Lyon"})
    assert body["subscriptions"] == [{"list": newsletter.pk, "status": "confirmed"}]


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_subscriber_is_404(owner_api: ApiClient, db: None, method: str) -> None:
    call = getattr(owner_api, method)
    response = call("/subscribers/999", {}) if method == "patch" else call("/subscribers/999")
    assert response.status_code == 404
    assert response.json()["detail"] == "Subscriber 999 not found."


def test_a_patch_changes_only_the_fields_given(owner_api: ApiClient, alice: Subscriber) -> None:
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"name": "Alice B"})
    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.email, alice.name, alice.attributes) == (
        "alice@example.com", "Alice B", {"city": "Lyon"},
    )  # fmt: skip
    assert alice.subscriptions.get().status == "confirmed"

    owner_api.patch(
        f"/subscribers/{alice.pk}", {"email": " ALICE@new.example ", "status": "blocklisted"}
    )
    alice.refresh_from_db()
    assert (alice.email, alice.status) == ("alice@new.example", "blocklisted")


def test_a_patch_of_lists_sets_the_memberships(
    owner_api: ApiClient, alice: Subscriber, newsletter: MailingList, announcements: MailingList
) -> None:
    response = owner_api.patch(
        f"/subscribers/{alice.pk}", {"lists": [announcements.pk], "preconfirm": True}
    )
    states = {s["list"]: s["status"] for s in response.json()["subscriptions"]}
    assert states == {newsletter.pk: "unsubscribed", announcements.pk: "confirmed"}


def test_a_patch_with_bad_fields_is_400_naming_them(
    owner_api: ApiClient, alice: Subscriber
) -> None:
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"email": "nope", "lists": [999]})
    assert response.status_code == 400
    assert fields_in_error(response) == ["lists"]  # unknown ids are checked before the service
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"email": "nope", "status": "vip"})
    assert response.status_code == 400
    assert set(fields_in_error(response)) == {"status"}  # the schema refuses an unknown status
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"email": "nope"})
    assert fields_in_error(response) == ["email"]
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"attributes": [1]})
    assert fields_in_error(response) == ["attributes"]
    response = owner_api.patch(f"/subscribers/{alice.pk}", {"name": None})
    assert (response.status_code, fields_in_error(response)) == (400, ["name"])


def test_taking_another_subscribers_address_is_409(owner_api: ApiClient, alice: Subscriber) -> None:
    bob = create_subscriber(email="bob@example.com")
    response = owner_api.patch(f"/subscribers/{bob.pk}", {"email": "Alice@Example.com"})
    assert response.status_code == 409
    assert response.json()["existing_id"] == alice.pk


def test_deleting_a_subscriber_is_204_and_keeps_the_suppression(
    owner_api: ApiClient, alice: Subscriber
) -> None:
    Suppression.objects.create(email=alice.email, reason=Suppression.Reason.HARD_BOUNCE)
    response = owner_api.delete(f"/subscribers/{alice.pk}")
    assert (response.status_code, response.content) == (204, b"")
    assert not Subscriber.objects.exists()
    assert Suppression.objects.filter(email="alice@example.com").exists()


def test_deleting_a_subscriber_a_running_campaign_waits_for_is_409(
    owner_api: ApiClient, alice: Subscriber, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    campaign = create_campaign(
        name="Now", subject="s", from_email="a@example.com", html="<p>x</p>",
        lists=[newsletter], smtp_server=smtp_server,
    )  # fmt: skip
    snapshot_audience(campaign)
    Campaign.objects.update(status=Campaign.Status.RUNNING)
    response = owner_api.delete(f"/subscribers/{alice.pk}")
    assert response.status_code == 409
    assert "“Now”" in response.json()["detail"]
    assert Delivery.objects.filter(subscriber=alice).exists()


def test_reading_a_list_with_its_counts(
    owner_api: ApiClient, alice: Subscriber, newsletter: MailingList
) -> None:
    body = owner_api.get(f"/lists/{newsletter.pk}").json()
    assert body["name"] == "Newsletter"
    assert body["subscribers"] == {"confirmed": 1, "unconfirmed": 0, "unsubscribed": 0}
    assert owner_api.get("/lists/999").status_code == 404


def test_a_list_patch_changes_only_the_fields_given(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    response = owner_api.patch(f"/lists/{newsletter.pk}", {"description": "Monthly"})
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["description"]) == ("Newsletter", "Monthly")
    response = owner_api.patch(f"/lists/{newsletter.pk}", {"optin": "double"})
    newsletter.refresh_from_db()
    assert (newsletter.optin, newsletter.description) == ("double", "Monthly")


def test_a_list_patch_validates_like_create(
    owner_api: ApiClient, newsletter: MailingList, announcements: MailingList
) -> None:
    response = owner_api.patch(f"/lists/{newsletter.pk}", {"name": "ANNOUNCEMENTS"})
    assert (response.status_code, fields_in_error(response)) == (409, ["name"])
    response = owner_api.patch(f"/lists/{newsletter.pk}", {"name": "  "})
    assert (response.status_code, fields_in_error(response)) == (400, ["name"])
    response = owner_api.patch(f"/lists/{newsletter.pk}", {"optin": "triple"})
    assert (response.status_code, fields_in_error(response)) == (400, ["optin"])


def test_deleting_a_list_is_204_and_keeps_its_subscribers(
    owner_api: ApiClient, alice: Subscriber, newsletter: MailingList
) -> None:
    assert owner_api.delete(f"/lists/{newsletter.pk}").status_code == 204
    assert not MailingList.objects.filter(pk=newsletter.pk).exists()
    assert Subscriber.objects.filter(pk=alice.pk).exists()
    assert not Subscription.objects.exists()
    assert owner_api.delete(f"/lists/{newsletter.pk}").status_code == 404


def test_deleting_a_list_a_scheduled_campaign_targets_is_409(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    create_list(name="Spare")
    campaign = create_campaign(
        name="Later", subject="s", from_email="a@example.com", html="<p>x</p>",
        lists=[newsletter], smtp_server=None,
    )  # fmt: skip
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.SCHEDULED)
    response = owner_api.delete(f"/lists/{newsletter.pk}")
    assert response.status_code == 409
    assert "“Later”" in response.json()["detail"]


def test_teammates_may_and_outsiders_may_not(
    teammate_api: ApiClient, outsider_api: ApiClient, anonymous_api: ApiClient, alice: Subscriber
) -> None:
    assert anonymous_api.delete(f"/subscribers/{alice.pk}").status_code == 401
    assert outsider_api.delete(f"/subscribers/{alice.pk}").status_code == 403
    assert outsider_api.patch(f"/subscribers/{alice.pk}", {"name": "x"}).status_code == 403
    assert Subscriber.objects.get().name == "Alice"
    assert teammate_api.delete(f"/subscribers/{alice.pk}").status_code == 204
