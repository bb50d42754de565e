from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from tests.support import certs as test_certs
from tests.support.smtpd import RunningSmtpServer, free_port
from tests.support.smtpd import smtp_server as running_smtp_server

PASSWORD = "s3cret-relay-password"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Relay",
        "host": "smtp.example.com",
        "port": "587",
        "security": "starttls",
        "username": "mailer",
        "password": "",
        "max_connections": "4",
        "messages_per_second": "50",
    }
    data.update(overrides)
    return data


def test_the_smtp_page_invites_you_to_add_a_server(teammate_client: Client, db: None) -> None:
    response = teammate_client.get(reverse("delivery:smtp_index"))
    assert b"No sending servers yet" in response.content


def test_adding_a_server_stores_the_password_encrypted(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_create"), _form(password=PASSWORD), follow=True
    )
    server = SmtpServer.objects.get()
    assert server.password == PASSWORD
    assert PASSWORD not in server.password_encrypted
    assert response.redirect_chain[-1][0] == reverse("delivery:smtp_edit", args=[server.pk])
    assert PASSWORD not in response.content.decode()


def test_the_edit_page_never_shows_the_password(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    page = teammate_client.get(reverse("delivery:smtp_edit", args=[smtp_server.pk])).content
    assert PASSWORD.encode() not in page
    assert smtp_server.password_encrypted.encode() not in page
    assert b'<input type="password" name="password"' in page
    assert b"Leave empty to keep the stored password." in page


def test_the_password_is_not_echoed_back_after_a_validation_error(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_edit", args=[smtp_server.pk]),
        _form(password="brand-new-password", port="70000"),
    )
    assert response.context["form"].errors["port"] == ["Port must be between 1 and 65535."]
    assert b"brand-new-password" not in response.content


def test_an_empty_password_keeps_the_stored_one(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    teammate_client.post(
        reverse("delivery:smtp_edit", args=[smtp_server.pk]),
        _form(host="smtp2.example.com", password=""),
    )
    smtp_server.refresh_from_db()
    assert smtp_server.host == "smtp2.example.com"
    assert smtp_server.password == PASSWORD


def test_a_new_password_replaces_the_stored_one(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    teammate_client.post(
        reverse("delivery:smtp_edit", args=[smtp_server.pk]), _form(password="rotated")
    )
    smtp_server.refresh_from_db()
    assert smtp_server.password == "rotated"


def test_clear_password_removes_it(teammate_client: Client, smtp_server: SmtpServer) -> None:
    teammate_client.post(
        reverse("delivery:smtp_edit", args=[smtp_server.pk]),
        _form(username="", clear_password="on"),
    )
    smtp_server.refresh_from_db()
    assert smtp_server.password == ""


def test_a_duplicate_name_is_reported_beside_the_name(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(reverse("delivery:smtp_create"), _form())
    assert response.context["form"].errors["name"] == ["A server named 'Relay' already exists."]
    assert SmtpServer.objects.count() == 1


def test_service_rules_land_beside_their_fields(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_create"),
        _form(host="bad host", max_connections="0", messages_per_second="0"),
    )
    errors = response.context["form"].errors
    assert errors["host"] == ["Enter a host name or IP address."]
    assert errors["max_connections"] == ["At least one connection."]
    assert errors["messages_per_second"] == ["Must be greater than zero."]


def _check(client: Client, server: SmtpServer) -> Any:
    response = client.post(reverse("delivery:smtp_test", args=[server.pk]))
    assert response.status_code == 200
    return response


def test_test_connection_reports_a_dns_failure(teammate_client: Client, db: None) -> None:
    server = create_smtp_server(name="Typo", host="nonexistent.invalid", port=587)
    response = _check(teammate_client, server)
    check = response.context["check"]
    assert (check.ok, check.stage) == (False, "dns")
    page = response.content.decode()
    assert 'data-role="failed-stage">DNS lookup<' in page
    assert "cannot resolve nonexistent.invalid" in page


def test_test_connection_reports_a_tcp_failure_after_resolving(
    teammate_client: Client, db: None
) -> None:
    server = create_smtp_server(name="Closed", host="127.0.0.1", port=free_port(), security="none")
    response = _check(teammate_client, server)
    check = response.context["check"]
    assert (check.ok, check.stage) == (False, "tcp")
    page = response.content.decode()
    assert 'data-role="failed-stage">TCP connection<' in page
    assert "Resolved 127.0.0.1" in page  # the step that worked
    assert f"cannot connect to 127.0.0.1:{server.port}" in page


@pytest.fixture
def certs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> test_certs.CertificateFiles:
    certificates = test_certs.make_certificates(tmp_path / "certs")
    # The client verifies certificates against the default trust store, which
    # OpenSSL locates through SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificates.ca_file))
    return certificates


@pytest.fixture
def loopback_smtp(certs: test_certs.CertificateFiles) -> Iterator[RunningSmtpServer]:
    with running_smtp_server(certs) as running:
        yield running


def test_test_connection_walks_through_every_step(
    teammate_client: Client, db: None, loopback_smtp: RunningSmtpServer
) -> None:
    server = create_smtp_server(
        name="Loopback",
        host="localhost",
        port=loopback_smtp.port,
        security="starttls",
        username=loopback_smtp.username,
        password=loopback_smtp.password,
    )
    response = _check(teammate_client, server)
    assert response.context["check"].ok
    page = response.content.decode()
    assert "Connection works" in page
    assert "STARTTLS negotiated, certificate verified" in page
    assert f"Authenticated as {loopback_smtp.username}" in page


def test_test_connection_reports_an_auth_failure(
    teammate_client: Client, db: None, loopback_smtp: RunningSmtpServer
) -> None:
    server = create_smtp_server(
        name="Loopback",
        host="localhost",
        port=loopback_smtp.port,
        security="starttls",
        username=loopback_smtp.username,
        password="wrong-password",
    )
    response = _check(teammate_client, server)
    assert response.context["check"].stage == "auth"
    page = response.content.decode()
    assert 'data-role="failed-stage">Authentication<' in page
    assert "STARTTLS negotiated" in page
    assert "wrong-password" not in page
