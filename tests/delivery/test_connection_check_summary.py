"""A passing connection test says exactly what it checked, against real loopback servers."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from delivery.pipeline.smtp import check_connection
from delivery.services import create_smtp_server
from tests.delivery.test_smtp import settings_for
from tests.support.certs import CertificateFiles
from tests.support.smtpd import RunningSmtpServer, smtp_server


def test_starttls_with_login_names_both(smtpd: RunningSmtpServer) -> None:
    check = check_connection(settings_for(smtpd))
    assert check.ok, check.message
    assert check.message == (
        f"Connected; TLS (STARTTLS), certificate verified; logged in as {smtpd.username}."
    )
    assert check.warnings == []


def test_implicit_tls_with_login_names_both(certificates: CertificateFiles) -> None:
    with smtp_server(certificates, implicit_tls=True) as server:
        check = check_connection(settings_for(server, security="tls"))
    assert check.ok, check.message
    assert check.message == (
        f"Connected; TLS (implicit), certificate verified; logged in as {server.username}."
    )
    assert check.warnings == []


def test_starttls_without_a_username_says_no_login_was_tried(
    certificates: CertificateFiles,
) -> None:
    with smtp_server(certificates, require_auth=False) as server:
        check = check_connection(settings_for(server, username="", password=""))
    assert check.ok, check.message
    assert check.message == "Connected; TLS (STARTTLS), certificate verified; no login configured."
    assert check.warnings == []


def test_a_plain_anonymous_server_is_not_called_secure(certificates: CertificateFiles) -> None:
    with smtp_server(certificates, plain=True, require_auth=False) as server:
        check = check_connection(settings_for(server, security="none", username="", password=""))
    assert check.ok, check.message
    assert check.message == "Connected; no TLS (plain connection); no login configured."
    assert "TLS" not in " ".join(check.steps)
    assert len(check.warnings) == 1
    assert "unencrypted" in check.warnings[0]


def test_a_login_over_a_plain_connection_warns_about_the_password(
    certificates: CertificateFiles,
) -> None:
    with smtp_server(certificates, plain=True) as server:
        check = check_connection(settings_for(server, security="none"))
    assert check.ok, check.message
    assert check.message == (
        f"Connected; no TLS (plain connection); logged in as {server.username}."
    )
    assert any("unencrypted" in warning for warning in check.warnings)
    assert any("password was sent without encryption" in w for w in check.warnings)


def test_the_server_page_shows_the_summary_and_the_warning(
    certificates: CertificateFiles, teammate_client: Client, db: None
) -> None:
    with smtp_server(certificates, plain=True, require_auth=False) as running:
        server = create_smtp_server(
            name="Local relay", host=running.host, port=running.port, security="none"
        )
        response = teammate_client.post(reverse("delivery:smtp_test", args=[server.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Connected; no TLS (plain connection); no login configured." in body
    assert 'data-role="check-warning"' in body
    assert "Connection, TLS and login all work" not in body
