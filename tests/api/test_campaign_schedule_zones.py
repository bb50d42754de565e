"""POST /campaigns/{id}/start with a zone, /reschedule and /unschedule."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList
from subscribers.services import create_subscriber
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db

YEAR = timezone.now().year + 1


@pytest.fixture
def draft(newsletter: MailingList, smtp_server: SmtpServer) -> Campaign:
    create_subscriber(email="ana@example.com", lists=[newsletter])
    return create_campaign(
        name="March issue",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
    )


def test_a_local_time_with_a_zone_is_read_in_that_zone(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start",
        {"scheduled_at": f"{YEAR}-03-01T09:00:00", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "scheduled"
    assert body["schedule_timezone"] == "Europe/Berlin"
    draft.refresh_from_db()
    assert draft.scheduled_at == datetime(YEAR, 3, 1, 8, 0, tzinfo=UTC)


def test_an_offset_with_a_zone_keeps_the_instant_and_shows_it_in_the_zone(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start",
        {"scheduled_at": f"{YEAR}-03-01T09:00:00Z", "timezone": "Asia/Tokyo"},
    )
    assert response.status_code == 202
    draft.refresh_from_db()
    assert (draft.scheduled_at, draft.schedule_timezone) == (
        datetime(YEAR, 3, 1, 9, 0, tzinfo=UTC),
        "Asia/Tokyo",
    )


def test_a_time_the_clocks_skip_is_400(owner_api: ApiClient, draft: Campaign) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start",
        {"scheduled_at": "2099-03-29T02:30:00", "timezone": "Europe/Berlin"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "scheduled_at"
    assert "does not exist in Europe/Berlin" in error["message"]


def test_an_unknown_zone_is_400_on_the_zone(owner_api: ApiClient, draft: Campaign) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start",
        {"scheduled_at": f"{YEAR}-03-01T09:00:00", "timezone": "Moon/Base"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "timezone"
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT


def test_reschedule_then_unschedule(owner_api: ApiClient, draft: Campaign) -> None:
    owner_api.post(f"/campaigns/{draft.pk}/start", {"scheduled_at": f"{YEAR}-03-01T09:00:00Z"})
    response = owner_api.post(
        f"/campaigns/{draft.pk}/reschedule",
        {"scheduled_at": f"{YEAR}-04-01T09:00:00", "timezone": "America/New_York"},
    )
    assert response.status_code == 202
    assert response.json()["scheduled_at"].startswith(f"{YEAR}-04-01T13:00:00")
    response = owner_api.post(f"/campaigns/{draft.pk}/unschedule")
    assert response.status_code == 202
    assert (response.json()["status"], response.json()["scheduled_at"]) == ("draft", None)
    # A draft is not scheduled: both are a conflict now.
    assert owner_api.post(f"/campaigns/{draft.pk}/unschedule").status_code == 409
    response = owner_api.post(
        f"/campaigns/{draft.pk}/reschedule", {"scheduled_at": f"{YEAR}-04-01T09:00:00Z"}
    )
    assert response.status_code == 409


def test_a_running_campaign_cannot_be_rescheduled(owner_api: ApiClient, draft: Campaign) -> None:
    Campaign.objects.filter(pk=draft.pk).update(status=Campaign.Status.RUNNING)
    response = owner_api.post(
        f"/campaigns/{draft.pk}/reschedule", {"scheduled_at": f"{YEAR}-04-01T09:00:00Z"}
    )
    assert response.status_code == 409
    assert "already started sending" in response.json()["detail"]
