"""A/B tests over the API: created with the campaign, its phase and winner on
the campaign, and a winner chosen by hand."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns import abtest
from campaigns.models import AbTest, Campaign
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList
from tests.api.client import ApiClient
from tests.support.factories import add_audience

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]


def campaign_body(newsletter: MailingList, server: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Spring",
        "subject": "Spring news",
        "from_email": "News <news@example.com>",
        "html": "<p>Hello {{ subscriber.name }}</p>",
        "lists": [newsletter.pk],
        "smtp_server": server.pk,
        **extra,
    }


def test_a_campaign_is_created_with_its_test_and_shows_its_phase_and_winner(
    teammate_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    add_audience(newsletter, 40)
    body = campaign_body(
        newsletter,
        smtp_server,
        ab_test={
            "variants": [{"subject": "Spring news"}, {"subject": "20% off everything"}],
            "test_percent": 50,
            "wait_minutes": 90,
            "metric": "manual",
        },
    )
    created = teammate_api.post("/campaigns", body)
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]

    assert teammate_api.post(f"/campaigns/{campaign_id}/start", {}).status_code == 202
    shown = teammate_api.get(f"/campaigns/{campaign_id}").json()["ab_test"]
    assert {k: shown[k] for k in ("phase", "winner", "test_percent", "wait_minutes")} == {
        "phase": "testing",
        "winner": None,
        "test_percent": 50,
        "wait_minutes": 90,
    }
    assert [v["subject"] for v in shown["variants"]] == ["Spring news", "20% off everything"]

    # Early: the variants are still going out; a person may pick already.
    Delivery.objects.filter(campaign_id=campaign_id, status="pending").update(status="sent")
    abtest.advance()
    chosen = teammate_api.post(f"/campaigns/{campaign_id}/ab-winner", {"variant": 1})
    assert chosen.status_code == 200
    assert (chosen.json()["phase"], chosen.json()["winner"]) == ("sending_winner", 1)
    assert [v["sent"] for v in chosen.json()["variants"]] == [10, 10]
    assert Delivery.objects.filter(campaign_id=campaign_id, status="pending").count() == 20

    again = teammate_api.post(f"/campaigns/{campaign_id}/ab-winner", {"variant": 0})
    assert again.status_code == 409
    assert "already chosen" in again.json()["detail"]


def test_a_test_that_cannot_run_is_refused_and_leaves_no_campaign(
    teammate_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    body = campaign_body(
        newsletter,
        smtp_server,
        ab_test={"variants": [{"subject": "A"}, {"from_name": "Ana"}]},
    )
    refused = teammate_api.post("/campaigns", body)
    assert refused.status_code == 400
    assert "All variants must change the same thing." in str(refused.json())
    assert not Campaign.objects.exists() and not AbTest.objects.exists()


def test_choosing_a_winner_needs_a_test_and_a_real_variant(
    teammate_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    plain = teammate_api.post("/campaigns", campaign_body(newsletter, smtp_server)).json()
    assert (
        teammate_api.post(f"/campaigns/{plain['id']}/ab-winner", {"variant": 0}).status_code == 409
    )
    assert teammate_api.get(f"/campaigns/{plain['id']}").json()["ab_test"] is None
    assert teammate_api.post("/campaigns/999999/ab-winner", {"variant": 0}).status_code == 404
