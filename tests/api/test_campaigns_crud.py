"""PATCH/DELETE /campaigns/{id}, archive, unarchive and duplicate."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from campaigns.models import Campaign, CampaignServer
from campaigns.services import create_campaign, create_layout, snapshot_audience
from delivery.models import Delivery, SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList
from subscribers.services import create_subscriber
from tests.api.client import ApiClient

LAYOUT = "<html><body>{% block content %}{% endblock %}</body></html>"


def fields_in_error(response: Any) -> list[str]:
    return [error["field"] for error in response.json()["errors"]]


@pytest.fixture
def backup(db: None) -> SmtpServer:
    return create_smtp_server(name="Backup", host="backup.example.com", port=587)


@pytest.fixture
def draft(newsletter: MailingList, smtp_server: SmtpServer, backup: SmtpServer) -> Campaign:
    create_subscriber(email="alice@example.com", name="Alice", lists=[newsletter])
    return create_campaign(
        name="March issue",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi {{ subscriber.name }}</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
        smtp_weight=3,
        extra_servers=[(backup, 2)],
        max_errors=9,
    )


def _set_status(campaign: Campaign, status: str) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)


def test_a_patch_changes_only_the_fields_given(
    owner_api: ApiClient, draft: Campaign, backup: SmtpServer
) -> None:
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"subject": "Hello again"})
    assert response.status_code == 200
    body = response.json()
    assert (body["subject"], body["name"], body["smtp_weight"], body["max_errors"]) == (
        "Hello again", "March issue", 3, 9,
    )  # fmt: skip
    assert body["extra_smtp_servers"] == [{"id": backup.pk, "weight": 2}]
    assert body["stats"] == {"total": 0, "pending": 0, "sent": 0, "failed": 0}
    draft.refresh_from_db()
    assert draft.html == "<p>Hi {{ subscriber.name }}</p>"


def test_a_patch_sets_the_layout_lists_and_routing(
    owner_api: ApiClient, draft: Campaign, announcements: MailingList
) -> None:
    layout = create_layout(name="Plain", html=LAYOUT)
    response = owner_api.patch(
        f"/campaigns/{draft.pk}",
        {
            "layout": layout.pk,
            "lists": [announcements.pk],
            "extra_smtp_servers": [],
            "max_errors": None,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["layout"], body["lists"], body["extra_smtp_servers"], body["max_errors"]) == (
        layout.pk, [announcements.pk], [], None,
    )  # fmt: skip
    assert owner_api.patch(f"/campaigns/{draft.pk}", {"layout": None}).json()["layout"] is None


def test_a_patch_validates_like_create(owner_api: ApiClient, draft: Campaign) -> None:
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"from_email": "not an address"})
    assert (response.status_code, fields_in_error(response)) == (400, ["from_email"])
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"html": "{% if %}"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "html"
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"layout": 999})
    assert (response.status_code, fields_in_error(response)) == (400, ["layout"])
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"smtp_weight": 0})
    assert (response.status_code, fields_in_error(response)) == (400, ["smtp_weight"])
    draft.refresh_from_db()
    assert draft.from_email == "news@example.com"


def test_a_running_campaign_is_not_patched(owner_api: ApiClient, draft: Campaign) -> None:
    _set_status(draft, "running")
    response = owner_api.patch(f"/campaigns/{draft.pk}", {"subject": "Late"})
    assert response.status_code == 409
    assert response.json()["detail"] == "a running campaign can no longer be edited"
    assert owner_api.patch("/campaigns/999", {"subject": "x"}).status_code == 404


def test_a_draft_is_deleted_with_204(owner_api: ApiClient, draft: Campaign) -> None:
    assert owner_api.delete(f"/campaigns/{draft.pk}").status_code == 204
    assert not Campaign.objects.exists()
    assert owner_api.delete(f"/campaigns/{draft.pk}").status_code == 404


@pytest.mark.parametrize("status", ["scheduled", "running", "paused", "finished"])
def test_deleting_a_campaign_past_the_draft_is_409(
    owner_api: ApiClient, draft: Campaign, status: str
) -> None:
    _set_status(draft, status)
    response = owner_api.delete(f"/campaigns/{draft.pk}")
    assert response.status_code == 409
    assert response.json()["detail"].startswith(f"a {status} campaign cannot be deleted")
    assert Campaign.objects.filter(pk=draft.pk).exists()


def test_archiving_and_unarchiving(owner_api: ApiClient, draft: Campaign) -> None:
    assert owner_api.post(f"/campaigns/{draft.pk}/archive").status_code == 409
    snapshot_audience(draft)
    _set_status(draft, "finished")

    response = owner_api.post(f"/campaigns/{draft.pk}/archive")
    assert response.status_code == 200
    assert response.json()["archived_at"] is not None
    assert Delivery.objects.filter(campaign=draft).count() == 1
    assert owner_api.post(f"/campaigns/{draft.pk}/archive").status_code == 409

    archived = owner_api.get("/campaigns", {"archived": "true"}).json()["items"]
    current = owner_api.get("/campaigns", {"archived": "false"}).json()["items"]
    everything = owner_api.get("/campaigns").json()["items"]
    assert ([c["id"] for c in archived], current, len(everything)) == ([draft.pk], [], 1)

    response = owner_api.post(f"/campaigns/{draft.pk}/unarchive")
    assert (response.status_code, response.json()["archived_at"]) == (200, None)
    assert owner_api.post(f"/campaigns/{draft.pk}/unarchive").status_code == 409


def test_duplicating_answers_201_with_a_new_draft(
    owner_api: ApiClient, owner: Any, draft: Campaign, backup: SmtpServer
) -> None:
    _set_status(draft, "finished")
    response = owner_api.post(f"/campaigns/{draft.pk}/duplicate")
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != draft.pk
    assert (body["name"], body["status"], body["smtp_weight"], body["max_errors"]) == (
        "Copy of March issue", "draft", 3, 9,
    )  # fmt: skip
    assert body["extra_smtp_servers"] == [{"id": backup.pk, "weight": 2}]
    assert Campaign.objects.get(pk=body["id"]).created_by == owner
    assert CampaignServer.objects.filter(campaign_id=body["id"]).count() == 1
    assert owner_api.post("/campaigns/999/duplicate").status_code == 404


def test_the_openapi_document_describes_the_patch_bodies(db: None) -> None:
    document = Client().get("/api/v1/openapi.json", secure=True).json()
    schemas = document["components"]["schemas"]
    assert {"email", "name", "attributes", "status", "lists"} <= set(
        schemas["SubscriberPatch"]["properties"]
    )
    assert {"name", "description", "optin"} <= set(schemas["ListPatch"]["properties"])
    assert {"subject", "layout", "extra_smtp_servers"} <= set(
        schemas["CampaignPatch"]["properties"]
    )
    operation = document["paths"]["/api/v1/campaigns/{campaign_id}/duplicate"]["post"]
    assert "201" in operation["responses"]
