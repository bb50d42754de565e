"""Extra SMTP servers, weights and pause thresholds of campaigns over the API."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList
from tests.api.client import ApiClient


@pytest.fixture
def backup(db: None) -> SmtpServer:
    return create_smtp_server(name="Backup", host="smtp2.example.com", port=587)


@pytest.fixture
def payload(newsletter: MailingList, smtp_server: SmtpServer) -> dict[str, Any]:
    return {
        "name": "March issue",
        "subject": "News",
        "from_email": "News <news@example.com>",
        "lists": [newsletter.pk],
        "html": "<p>Hello</p>",
        "smtp_server": smtp_server.pk,
    }


def test_a_campaign_without_routing_gets_the_defaults(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    body = owner_api.post("/campaigns", payload).json()
    assert body["smtp_weight"] == 1
    assert body["extra_smtp_servers"] == []
    assert (body["max_error_rate"], body["max_errors"]) == (None, None)


def test_routing_goes_in_and_comes_back_from_get(
    owner_api: ApiClient, payload: dict[str, Any], backup: SmtpServer
) -> None:
    created = owner_api.post(
        "/campaigns",
        {
            **payload,
            "smtp_weight": 3,
            "extra_smtp_servers": [{"id": backup.pk, "weight": 2}],
            "max_error_rate": 0.1,
            "max_errors": 25,
        },
    )
    assert created.status_code == 201
    body = owner_api.get(f"/campaigns/{created.json()['id']}").json()
    assert body["smtp_weight"] == 3
    assert body["extra_smtp_servers"] == [{"id": backup.pk, "weight": 2}]
    assert (body["max_error_rate"], body["max_errors"]) == (0.1, 25)


def test_an_unknown_server_id_is_400_naming_it(
    owner_api: ApiClient, payload: dict[str, Any]
) -> None:
    response = owner_api.post(
        "/campaigns", {**payload, "extra_smtp_servers": [{"id": 424242, "weight": 1}]}
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["field"] == "extra_smtp_servers"
    assert "424242" in error["message"]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"smtp_weight": 0}, "smtp_weight"),
        ({"max_error_rate": 1.5}, "max_error_rate"),
        ({"max_error_rate": -0.1}, "max_error_rate"),
        ({"max_errors": 0}, "max_errors"),
        ({"extra_smtp_servers": [{"id": "x"}]}, "extra_smtp_servers.0.id"),
    ],
)
def test_bad_routing_is_400_naming_the_field(
    owner_api: ApiClient, payload: dict[str, Any], change: dict[str, Any], field: str
) -> None:
    response = owner_api.post("/campaigns", {**payload, **change})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_repeating_the_main_server_or_a_zero_weight_is_400(
    owner_api: ApiClient, payload: dict[str, Any], smtp_server: SmtpServer, backup: SmtpServer
) -> None:
    response = owner_api.post(
        "/campaigns",
        {
            **payload,
            "extra_smtp_servers": [{"id": smtp_server.pk}, {"id": backup.pk, "weight": 0}],
        },
    )
    assert response.status_code == 400
    messages = [e["message"] for e in response.json()["errors"]]
    assert {e["field"] for e in response.json()["errors"]} == {"extra_smtp_servers"}
    assert messages[0].startswith("Relay is already the main server")
    assert messages[1].startswith("Backup: a weight")


def test_the_campaign_list_reads_extra_servers_without_a_query_per_campaign(
    owner_api: ApiClient,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    backup: SmtpServer,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(5):
        create_campaign(
            name=f"C{i}",
            subject="Hi",
            from_email="news@example.com",
            html="<p>Hi</p>",
            lists=[newsletter],
            smtp_server=smtp_server,
            extra_servers=[(backup, i + 1)],
        )
    # Token, campaigns, their lists, segments, excluded segments, tags, extra servers.
    with django_assert_max_num_queries(8):
        response = owner_api.get("/campaigns")
    weights = [item["extra_smtp_servers"][0]["weight"] for item in response.json()["items"]]
    assert weights == [5, 4, 3, 2, 1]
