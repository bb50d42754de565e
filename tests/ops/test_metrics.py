"""/metrics: who may scrape it, its format, its numbers, and its fixed cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.ops.conftest import Ledger
from tests.ops.world import build_world

TOKEN = "s3cret-metrics-token-0123456789"
# The snapshot's 15 queries; no session is read for a bearer token.
QUERIES = 15


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client: Client, token: str | None = None, **headers: str) -> Any:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return client.get("/metrics", headers=headers)


def test_no_token_and_no_session_is_401(client: Client, metrics_token: str) -> None:
    response = scrape(client)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_403(client: Client, metrics_token: str) -> None:
    assert scrape(client, "not-the-token").status_code == 403


def test_any_token_is_403_when_none_is_configured(client: Client, settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    assert scrape(client, "").status_code == 403
    assert scrape(client, "anything").status_code == 403


def test_without_a_configured_token_no_bearer_token_is_accepted(
    client: Client, db: None, settings: Any
) -> None:
    settings.METRICS_TOKEN = ""
    assert scrape(client, "").status_code in {401, 403}
    assert scrape(client, "anything").status_code == 403


def test_an_outsiders_session_is_403(outsider_client: Client, metrics_token: str) -> None:
    assert scrape(outsider_client).status_code == 403


def test_a_staff_session_may_look(teammate_client: Client) -> None:
    response = scrape(teammate_client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")


def test_the_right_token_gets_the_metrics_in_text_format(
    client: Client, metrics_token: str, ledger: Ledger
) -> None:
    build_world(ledger, 1)

    response = scrape(client, metrics_token)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    lines = set(body.splitlines())
    campaign = f'campaign="{_campaign_id(body)}",name="Campaign 0"'
    for expected in (
        f'postino_campaign_messages{{{campaign},status="sent"}} 60.0',
        f'postino_campaign_messages{{{campaign},status="pending"}} 125.0',
        f'postino_campaign_messages{{{campaign},status="failed"}} 3.0',
        f"postino_campaign_send_rate{{{campaign}}} 2.0",
        f"postino_campaign_eta_seconds{{{campaign}}} 62.5",
        'postino_queue_depth{queue="postino"} 0.0',
        "postino_retry_backlog 5.0",
        "postino_workers 1.0",
        'postino_smtp_server_down{reason="down",server="Relay 0"} 1.0',
        'postino_smtp_connections_in_use{server="Relay 0"} 0.0',
        'postino_smtp_quota_used{server="Relay 0",window="hour"} 60.0',
        'postino_smtp_quota_limit{server="Relay 0",window="day"} 50000.0',
        'postino_domain_sent_last_minute{domain="mail0.example"} 60.0',
        'postino_domain_throttled{domain="mail0.example"} 1.0',
        'postino_errors_last_hour{code="550",outcome="failed"} 3.0',
        'postino_errors_last_hour{code="421",outcome="deferred"} 5.0',
        'postino_stage_seconds_total{stage="transmit"} 1.2',
        "postino_smtp_attempts_total 60.0",
        "postino_messages_sent_last_minute 60.0",
        "postino_send_rate 2.0",
        'postino_queue_depth{queue="postino-tx"} 0.0',
        "postino_tx_waiting 0.0",
        "postino_redis_up 1.0",
    ):
        assert expected in lines, expected
    assert "# TYPE postino_stage_seconds_total counter" in lines


def _campaign_id(body: str) -> str:
    line = next(line for line in body.splitlines() if line.startswith("postino_campaign_send_rate"))
    return line.split('campaign="', 1)[1].split('"', 1)[0]


def test_the_query_count_does_not_grow_with_what_is_measured(
    client: Client, metrics_token: str, ledger: Ledger, django_assert_max_num_queries: Any
) -> None:
    build_world(ledger, 1)
    with CaptureQueriesContext(connection) as one:
        assert scrape(client, metrics_token).status_code == 200
    build_world(ledger, 4, first=1)
    with django_assert_max_num_queries(QUERIES), CaptureQueriesContext(connection) as five:
        response = scrape(client, metrics_token)
    assert response.content.decode().count("postino_campaign_send_rate{") == 5
    assert len(five) == len(one)
