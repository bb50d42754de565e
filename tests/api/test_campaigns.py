"""Campaigns over the API: create, read, test-send and the state machine.

Sending itself happens in Celery tasks queued on commit; these tests capture
the callbacks and look at the jobs they queue, never sending (the send
pipeline has its own tests).
"""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import Delivery, SmtpServer
from postino import jobs
from subscribers.models import MailingList
from subscribers.services import create_subscriber
from tests.api.client import ApiClient
from tests.support.jobs import QueuedJobs


@pytest.fixture
def payload(newsletter: MailingList, smtp_server: SmtpServer) -> dict[str, Any]:
    return {
        "name": "March issue",
        "subject": "News for {{ subscriber.name }}",
        "from_email": "News <news@example.com>",
        "lists": [newsletter.pk],
        "html": "<p>Hello {{ subscriber.name }}</p>",
        "smtp_server": smtp_server.pk,
    }


@pytest.fixture
def draft(newsletter: MailingList, smtp_server: SmtpServer) -> Campaign:
    create_subscriber(email="alice@example.com", name="Alice", lists=[newsletter])
    create_subscriber(email="bob@example.com", name="Bob", lists=[newsletter])
    return create_campaign(
        name="March issue",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
    )


def test_creating_a_campaign_answers_201_with_its_id(
    owner_api: ApiClient, owner: Any, payload: dict[str, Any], newsletter: MailingList
) -> None:
    response = owner_api.post("/campaigns", payload)
    assert response.status_code == 201
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign.status == Campaign.Status.DRAFT
    assert list(campaign.lists.all()) == [newsletter]
    assert campaign.created_by == owner
    assert response.json()["lists"] == [newsletter.pk]


def test_a_template_that_does_not_compile_is_400_naming_field_line_and_message(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    response = owner_api.post("/campaigns", {**payload, "html": "<p>ok</p>\n{% if %}"})
    assert response.status_code == 400
    [problem] = response.json()["errors"]
    assert problem["field"] == "html"
    assert problem["line"] == 2
    assert problem["message"]
    assert not Campaign.objects.exists()


def test_an_invalid_from_address_is_400_naming_the_field(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    response = owner_api.post("/campaigns", {**payload, "from_email": "nobody"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["from_email"]


def test_an_unknown_smtp_server_is_400_naming_the_field(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    response = owner_api.post("/campaigns", {**payload, "smtp_server": 424242})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "smtp_server"


def test_an_unknown_list_is_400_naming_the_field(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    response = owner_api.post("/campaigns", {**payload, "lists": [424242]})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "lists"


def test_reading_a_campaign_shows_its_status_and_stats(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.get(f"/campaigns/{draft.pk}")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["name"], body["status"], body["status_reason"]) == (
        draft.pk,
        "March issue",
        "draft",
        "",
    )
    assert body["stats"] == {"total": 0, "pending": 0, "sent": 0, "failed": 0}


def test_an_unknown_campaign_is_404(owner_api: ApiClient) -> None:
    response = owner_api.get("/campaigns/424242")
    assert response.status_code == 404
    assert response.json()["detail"] == "Campaign 424242 not found."


def test_campaigns_are_listed_newest_first_and_paginated(
    owner_api: ApiClient, draft: Campaign, payload: dict[str, Any]
) -> None:
    newer = owner_api.post("/campaigns", payload).json()["id"]
    first = owner_api.get("/campaigns", {"limit": 1}).json()
    rest = owner_api.get("/campaigns", {"limit": 1, "before": first["next_before"]}).json()
    assert [c["id"] for c in first["items"]] == [newer]
    assert [c["id"] for c in rest["items"]] == [draft.pk]
    assert rest["next_before"] is None


def test_starting_a_campaign_answers_202_and_queues_dispatch_after_commit(
    owner_api: ApiClient,
    draft: Campaign,
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(f"/campaigns/{draft.pk}/start")
    assert response.status_code == 202
    assert response.json()["status"] == "running"
    assert queued_jobs == []
    (callback,) = callbacks
    callback()
    assert queued_jobs.of(jobs.DISPATCH_CAMPAIGN) == [(draft.pk,)]
    assert Delivery.objects.filter(campaign=draft).count() == 2
    stats = owner_api.get(f"/campaigns/{draft.pk}").json()["stats"]
    assert stats == {"total": 2, "pending": 2, "sent": 0, "failed": 0}


def test_a_campaign_can_be_scheduled_for_later(owner_api: ApiClient, draft: Campaign) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start", {"scheduled_at": "2999-01-01T09:00:00Z"}
    )
    assert response.status_code == 202
    assert response.json()["status"] == "scheduled"
    assert response.json()["scheduled_at"].startswith("2999-01-01T09:00:00")


def test_starting_a_campaign_without_lists_is_400_naming_the_field(
    owner_api: ApiClient, draft: Campaign
) -> None:
    draft.lists.clear()
    response = owner_api.post(f"/campaigns/{draft.pk}/start")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["lists"]


def test_starting_a_running_campaign_is_409(
    owner_api: ApiClient, draft: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        owner_api.post(f"/campaigns/{draft.pk}/start")
        response = owner_api.post(f"/campaigns/{draft.pk}/start")
    assert response.status_code == 409
    assert response.json()["detail"] == "a running campaign cannot be started"


def test_pause_resume_and_cancel_move_the_campaign_through_its_states(
    owner_api: ApiClient,
    draft: Campaign,
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        owner_api.post(f"/campaigns/{draft.pk}/start")
        paused = owner_api.post(f"/campaigns/{draft.pk}/pause")
        resumed = owner_api.post(f"/campaigns/{draft.pk}/resume")
        cancelled = owner_api.post(f"/campaigns/{draft.pk}/cancel")
    assert [r.status_code for r in (paused, resumed, cancelled)] == [202, 202, 202]
    assert [r.json()["status"] for r in (paused, resumed, cancelled)] == [
        "paused",
        "running",
        "cancelled",
    ]

    def after_commit(callback: Any) -> str:
        # The stop key's callback is not run: it would set a real Redis key.
        if callback.__qualname__.startswith("_stop_after_commit."):
            return "stop key"
        callback()
        return queued_jobs.pop().name

    # Dispatch on start and again on resume; the stop key for pause and cancel,
    # each once its status change is committed.
    assert [after_commit(callback) for callback in callbacks] == [
        jobs.DISPATCH_CAMPAIGN,
        "stop key",
        jobs.DISPATCH_CAMPAIGN,
        "stop key",
    ]


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
def test_an_action_a_draft_does_not_allow_is_409(
    owner_api: ApiClient, draft: Campaign, action: str
) -> None:
    response = owner_api.post(f"/campaigns/{draft.pk}/{action}")
    assert response.status_code == 409
    assert "draft campaign cannot be" in response.json()["detail"]
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT


@pytest.mark.parametrize("action", ["start", "pause", "resume", "cancel", "test"])
def test_an_action_on_an_unknown_campaign_is_404(owner_api: ApiClient, action: str) -> None:
    response = owner_api.post(f"/campaigns/424242/{action}", {"emails": ["a@example.com"]})
    assert response.status_code == 404


def test_a_test_send_answers_202_and_queues_after_commit(
    owner_api: ApiClient,
    draft: Campaign,
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = owner_api.post(
            f"/campaigns/{draft.pk}/test", {"emails": ["QA@example.com", "qa@example.com"]}
        )
    assert response.status_code == 202
    assert response.json() == {"recipients": ["qa@example.com"]}
    (callback,) = callbacks
    callback()
    assert queued_jobs.of(jobs.SEND_TEST_MESSAGES) == [(draft.pk, ["qa@example.com"])]
    assert not Delivery.objects.exists()


def test_a_test_send_to_an_invalid_address_is_400_naming_the_field(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.post(f"/campaigns/{draft.pk}/test", {"emails": ["not-an-address"]})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["emails"]
