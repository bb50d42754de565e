"""POST /api/v1/campaigns/{id}/start refuses a time in the past."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList
from subscribers.services import create_subscriber
from tests.api.client import ApiClient

pytestmark = pytest.mark.django_db


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


def test_a_schedule_in_the_past_is_400_naming_the_field(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start", {"scheduled_at": "2020-01-01T09:00:00Z"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "scheduled_at"
    assert error["message"].startswith("2020-01-01 09:00 (UTC) has already passed")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT
    assert not Delivery.objects.filter(campaign=draft).exists()


def test_a_schedule_without_a_time_zone_is_400_rather_than_a_guess(
    owner_api: ApiClient, draft: Campaign
) -> None:
    response = owner_api.post(
        f"/campaigns/{draft.pk}/start", {"scheduled_at": "2999-01-01T09:00:00"}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "scheduled_at"
    assert "with its time zone" in error["message"]
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT
