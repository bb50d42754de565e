"""The limits and warm-up of SMTP servers over the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from delivery.limit_selectors import utc_today
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from tests.api.client import ApiClient

RELAY = {"name": "Relay", "host": "smtp.example.com", "port": 587}


def test_limits_and_warm_up_go_in_and_come_back_with_todays_limit(owner_api: ApiClient) -> None:
    started = utc_today() - timedelta(days=2)
    response = owner_api.post(
        "/smtp-servers",
        {
            **RELAY,
            "messages_per_hour": 100,
            "messages_per_day": 5000,
            "warmup_start_per_day": 250,
            "warmup_growth_factor": 2,
            "warmup_started_on": started.isoformat(),
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert {k: body[k] for k in ("messages_per_hour", "messages_per_day")} == {
        "messages_per_hour": 100,
        "messages_per_day": 5000,
    }
    assert body["warmup_start_per_day"] == 250
    assert body["warmup_growth_factor"] == 2.0
    assert body["warmup_started_on"] == started.isoformat()
    assert body["effective_daily_limit"] == 1000
    server = SmtpServer.objects.get(pk=body["id"])
    assert server.warmup_started_on == started


def test_a_server_without_limits_has_none_and_no_daily_limit(owner_api: ApiClient) -> None:
    body = owner_api.post("/smtp-servers", RELAY).json()
    assert body["messages_per_hour"] is None
    assert body["messages_per_day"] is None
    assert body["warmup_start_per_day"] is None
    assert body["warmup_started_on"] is None
    assert body["effective_daily_limit"] is None


def test_a_warm_up_without_a_first_day_starts_today(owner_api: ApiClient) -> None:
    body = owner_api.post("/smtp-servers", {**RELAY, "warmup_start_per_day": 50}).json()
    assert body["warmup_started_on"] == utc_today().isoformat()
    assert body["effective_daily_limit"] == 50


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"messages_per_hour": 0}, "messages_per_hour"),
        ({"messages_per_day": -3}, "messages_per_day"),
        ({"messages_per_hour": 900, "messages_per_day": 100}, "messages_per_hour"),
        ({"warmup_start_per_day": 0}, "warmup_start_per_day"),
        ({"warmup_growth_factor": 0.5}, "warmup_growth_factor"),
        ({"warmup_growth_factor": 11}, "warmup_growth_factor"),
        ({"warmup_started_on": "not a date"}, "warmup_started_on"),
        ({"messages_per_day": "many"}, "messages_per_day"),
    ],
)
def test_bad_limits_are_400_naming_the_field(
    owner_api: ApiClient, change: dict[str, Any], field: str
) -> None:
    response = owner_api.post("/smtp-servers", {**RELAY, **change})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert not SmtpServer.objects.exists()


def test_listing_servers_costs_one_query_however_many(
    owner_api: ApiClient, django_assert_max_num_queries: Any
) -> None:
    for i in range(5):
        create_smtp_server(
            name=f"S{i}", host="smtp.example.com", port=587, warmup_start_per_day=10 * (i + 1)
        )
    # Token lookup (and its last-used stamp), then the servers.
    with django_assert_max_num_queries(3):
        response = owner_api.get("/smtp-servers")
    limits = [item["effective_daily_limit"] for item in response.json()["items"]]
    assert limits == [10, 20, 30, 40, 50]
