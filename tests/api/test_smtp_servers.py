"""POST/GET /smtp-servers. The password goes in and never comes out."""

from __future__ import annotations

from delivery.models import SmtpServer
from tests.api.client import ApiClient

RELAY = {
    "name": "Relay",
    "host": "smtp.example.com",
    "port": 465,
    "security": "tls",
    "username": "mailer",
    "password": "hunter2-but-longer",
    "max_connections": 8,
    "messages_per_second": 12.5,
}


def test_creating_a_server_answers_201_and_stores_the_password_encrypted(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post("/smtp-servers", RELAY)
    assert response.status_code == 201
    server = SmtpServer.objects.get(pk=response.json()["id"])
    assert (server.host, server.port, server.security, server.max_connections) == (
        "smtp.example.com",
        465,
        "tls",
        8,
    )
    assert server.password == "hunter2-but-longer"
    assert "hunter2" not in server.password_encrypted


def test_the_password_is_never_returned(owner_api: ApiClient) -> None:
    created = owner_api.post("/smtp-servers", RELAY)
    listed = owner_api.get("/smtp-servers")
    for response in (created, listed):
        assert "hunter2" not in response.content.decode()
        assert "password" not in response.content.decode().replace("has_password", "")
    assert listed.json()["items"][0]["has_password"] is True


def test_an_empty_username_means_no_auth(owner_api: ApiClient) -> None:
    response = owner_api.post("/smtp-servers", {**RELAY, "username": "", "password": ""})
    body = response.json()
    assert (body["username"], body["has_password"]) == ("", False)


def test_an_out_of_range_port_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/smtp-servers", {**RELAY, "port": 70000})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["port"]


def test_an_unknown_security_mode_is_400_naming_the_field(owner_api: ApiClient) -> None:
    response = owner_api.post("/smtp-servers", {**RELAY, "security": "ssl3"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["security"]


def test_a_duplicate_name_is_400_naming_the_field(owner_api: ApiClient) -> None:
    owner_api.post("/smtp-servers", RELAY)
    response = owner_api.post("/smtp-servers", RELAY)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["name"]
