"""What the pages and the API save is what the send pipeline reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.limit_selectors import utc_today
from delivery.models import DomainLimit, SmtpServer
from delivery.pipeline import gate
from delivery.pipeline.breaker import check_error_thresholds
from delivery.pipeline.scheduling import campaign_servers
from delivery.services import create_domain_limit
from postino.redis import redis_client
from subscribers.models import MailingList
from tests.api.client import ApiClient


def _campaign_form(newsletter: MailingList, main: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Spread",
        "subject": "Hi",
        "from_email": "news@example.com",
        "reply_to": "",
        "lists": [newsletter.pk],
        "smtp_server": main.pk,
        "smtp_weight": "4",
        "template": "",
        "html": "<p>Hi</p>",
        "text": "",
        "max_error_rate": "",
        "max_errors": "",
        "servers-TOTAL_FORMS": "3",
        "servers-INITIAL_FORMS": "0",
        **extra,
    }


def test_a_campaign_saved_with_two_extra_servers_sends_through_three_by_weight(
    teammate_client: Client,
    newsletter: MailingList,
    relay: SmtpServer,
    backup: SmtpServer,
    overflow: SmtpServer,
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _campaign_form(
            newsletter,
            relay,
            **{
                "servers-0-smtp_server": str(backup.pk),
                "servers-0-weight": "2",
                "servers-1-smtp_server": "",
                "servers-1-weight": "1",
                "servers-2-smtp_server": str(overflow.pk),
                "servers-2-weight": "1",
            },
        ),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign_servers(campaign) == [(relay, 4), (backup, 2), (overflow, 1)]


def test_a_campaign_created_over_the_api_sends_through_its_servers(
    owner_api: ApiClient,
    newsletter: MailingList,
    relay: SmtpServer,
    backup: SmtpServer,
    overflow: SmtpServer,
) -> None:
    response = owner_api.post(
        "/campaigns",
        {
            "name": "Spread",
            "subject": "Hi",
            "from_email": "news@example.com",
            "html": "<p>Hi</p>",
            "lists": [newsletter.pk],
            "smtp_server": relay.pk,
            "extra_smtp_servers": [{"id": overflow.pk, "weight": 5}, {"id": backup.pk}],
        },
    )
    assert response.status_code == 201
    campaign = Campaign.objects.get(pk=response.json()["id"])
    assert campaign_servers(campaign) == [(relay, 1), (overflow, 5), (backup, 1)]


def test_a_server_saved_with_a_warm_up_is_limited_to_the_ramp_today(
    teammate_client: Client, db: None
) -> None:
    started = utc_today() - timedelta(days=3)
    teammate_client.post(
        reverse("delivery:smtp_create"),
        {
            "name": "Fresh IP",
            "host": "smtp.example.com",
            "port": "587",
            "security": "starttls",
            "username": "",
            "password": "",
            "max_connections": "4",
            "messages_per_second": "10",
            "messages_per_hour": "300",
            "messages_per_day": "100000",
            "warmup_start_per_day": "200",
            "warmup_growth_factor": "2",
            "warmup_started_on": started.isoformat(),
        },
    )
    limits = gate.ServerLimits.for_server(SmtpServer.objects.get(name="Fresh IP"))
    assert (limits.per_hour, limits.per_day) == (300, 1600)


def test_a_domain_limit_reaches_the_gate_in_idna_form(db: None) -> None:
    create_domain_limit(domain="Bücher.example", messages_per_minute=30)
    # The gate reads the table through a 30-second cache; read it afresh.
    gate._domain_limits_cached.cache_clear()
    assert gate.domain_limits()["xn--bcher-kva.example"] == 30
    assert DomainLimit.objects.filter(domain="gmail.com").exists()


def test_a_campaigns_own_failure_threshold_pauses_it(
    newsletter: MailingList, relay: SmtpServer
) -> None:
    campaign = create_campaign(
        name="Fragile",
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=relay,
        max_errors=3,
    )
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    key = f"postino:campaign:{campaign.pk}:tally"
    redis_client().delete(key)
    try:
        check_error_thresholds(campaign, attempts=3, failures=3, streak=3)
    finally:
        redis_client().delete(key)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "3 messages in a row failed" in campaign.status_reason
