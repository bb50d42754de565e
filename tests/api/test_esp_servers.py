"""POST /esp-servers, and ESP channels in GET /smtp-servers. Credentials go in
and never come out."""

from __future__ import annotations

from delivery.models import SmtpServer
from tests.api.client import ApiClient

TOKEN = "pm-api-secret-server-token"
POSTMARK = {
    "name": "Postmark",
    "esp": "postmark",
    "credentials": {"server_token": TOKEN},
    "max_connections": 6,
    "messages_per_second": 25,
    "messages_per_day": 10000,
}


def test_creating_an_esp_channel_answers_201_with_its_id(owner_api: ApiClient) -> None:
    response = owner_api.post("/esp-servers", POSTMARK)

    assert response.status_code == 201
    body = response.json()
    server = SmtpServer.objects.get(pk=body["id"])
    assert (server.kind, server.esp, server.max_connections) == ("esp", "postmark", 6)
    assert server.esp_credentials == {"server_token": TOKEN}
    assert TOKEN not in server.esp_credentials_encrypted
    assert (body["kind"], body["esp"], body["has_credentials"]) == ("esp", "postmark", True)
    assert (body["messages_per_day"], body["effective_daily_limit"]) == (10000, 10000)


def test_teammates_may_add_channels_too(teammate_api: ApiClient) -> None:
    assert teammate_api.post("/esp-servers", POSTMARK).status_code == 201


def test_credentials_are_never_returned(owner_api: ApiClient, smtp_server: SmtpServer) -> None:
    created = owner_api.post("/esp-servers", POSTMARK)
    listed = owner_api.get("/smtp-servers")
    for response in (created, listed):
        text = response.content.decode()
        assert TOKEN not in text
        assert "server_token" not in text
        assert "credentials" not in text.replace("has_credentials", "")


def test_the_server_list_gives_every_servers_kind_and_esp(
    owner_api: ApiClient, smtp_server: SmtpServer
) -> None:
    owner_api.post("/esp-servers", POSTMARK)

    items = owner_api.get("/smtp-servers").json()["items"]

    summary = [(i["name"], i["kind"], i["esp"], i["has_credentials"]) for i in items]
    assert summary == [("Postmark", "esp", "postmark", True), ("Relay", "smtp", "", False)]


def test_an_unknown_esp_is_400_naming_esp(owner_api: ApiClient) -> None:
    response = owner_api.post("/esp-servers", {**POSTMARK, "esp": "pigeon"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert [e["field"] for e in errors] == ["esp"]
    assert errors[0]["message"].startswith("Unknown ESP 'pigeon'; choose one of amazon_ses,")


def test_incomplete_credentials_are_400_naming_credentials_precisely(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post(
        "/esp-servers", {**POSTMARK, "esp": "mailjet", "credentials": {"api_key": "k"}}
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "credentials", "message": "Mailjet needs secret_key."}
    ]
    assert not SmtpServer.objects.exists()


def test_credentials_that_are_not_an_object_are_400_naming_credentials(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post("/esp-servers", {**POSTMARK, "credentials": "server_token=x"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["credentials"]


def test_limits_are_checked_as_for_smtp_servers(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/esp-servers", {**POSTMARK, "messages_per_hour": 20000, "messages_per_second": 0}
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {
        "messages_per_second",
        "messages_per_hour",
    }
