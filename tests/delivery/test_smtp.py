"""Connections to a real SMTP server on loopback: TLS, AUTH, pooling, failures."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from delivery.pipeline.smtp import (
    SmtpPool,
    SmtpSettings,
    check_connection,
    send_message,
)
from delivery.pipeline.types import Outcome
from tests.support.certs import CertificateFiles, make_certificates
from tests.support.smtpd import RunningSmtpServer, free_port, smtp_server


def settings_for(server: RunningSmtpServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "username": server.username,
        "password": server.password,
        "timeout": 5.0,
        "max_connections": 2,
        "key": f"test-{server.port}",
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nHello\r\n"


def test_a_working_server_passes_every_step(smtpd: RunningSmtpServer) -> None:
    check = check_connection(settings_for(smtpd))
    assert check.ok, check.message
    assert any("STARTTLS negotiated" in step for step in check.steps)
    assert any("Authenticated as" in step for step in check.steps)


def test_implicit_tls_works(certificates: CertificateFiles) -> None:
    with smtp_server(certificates, implicit_tls=True) as server:
        check = check_connection(settings_for(server, security="tls"))
    assert check.ok, check.message
    assert any("implicit TLS" in step for step in check.steps)


def test_an_unknown_host_fails_at_dns() -> None:
    check = check_connection(
        SmtpSettings(host="no-such-host.invalid", port=25, security="none", timeout=5)
    )
    assert (check.ok, check.stage) == (False, "dns")
    assert "no-such-host.invalid" in check.message


def test_a_closed_port_fails_at_tcp() -> None:
    check = check_connection(
        SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=5)
    )
    assert (check.ok, check.stage) == (False, "tcp")
    assert "refused" in check.message.lower()


def test_a_wrong_password_fails_at_auth(smtpd: RunningSmtpServer) -> None:
    check = check_connection(settings_for(smtpd, password="wrong"))
    assert (check.ok, check.stage) == (False, "auth")
    assert "535" in check.message


def test_an_untrusted_certificate_fails_at_tls(
    smtpd: RunningSmtpServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other_ca = make_certificates(tmp_path / "other")
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca.ca_file))
    check = check_connection(settings_for(smtpd))
    assert (check.ok, check.stage) == (False, "tls")
    assert "certificate" in check.message.lower()


def test_plain_connection_to_a_starttls_only_server_cannot_authenticate(
    smtpd: RunningSmtpServer,
) -> None:
    check = check_connection(settings_for(smtpd, security="none"))
    assert (check.ok, check.stage) == (False, "auth")


@pytest.fixture
def pool() -> Iterator[SmtpPool]:
    pool = SmtpPool()
    yield pool
    pool.close_all()


def test_the_pool_reuses_one_authenticated_connection(
    smtpd: RunningSmtpServer, pool: SmtpPool
) -> None:
    cfg = settings_for(smtpd)
    for _ in range(2):
        with pool.connection(cfg) as handle:
            for recipient in ("b@example.org", "c@example.org"):
                result = send_message(
                    handle, envelope_from="a@example.com", recipient=recipient, message=MESSAGE
                )
                assert result.outcome is Outcome.SENT
    assert smtpd.handler.authenticated_sessions == 1
    assert sum(smtpd.handler.recipients().values()) == 4


def test_replies_are_classified_permanent_or_transient(
    smtpd: RunningSmtpServer, pool: SmtpPool
) -> None:
    smtpd.handler.refuse_always["gone@example.org"] = "550 5.1.1 User unknown"
    smtpd.handler.refuse_always["busy@example.org"] = "452 4.2.2 Mailbox full"
    with pool.connection(settings_for(smtpd)) as handle:
        gone = send_message(
            handle, envelope_from="a@example.com", recipient="gone@example.org", message=MESSAGE
        )
        busy = send_message(
            handle, envelope_from="a@example.com", recipient="busy@example.org", message=MESSAGE
        )
        fine = send_message(
            handle, envelope_from="a@example.com", recipient="ok@example.org", message=MESSAGE
        )
    assert (gone.outcome, gone.code) == (Outcome.PERMANENT, 550)
    assert "User unknown" in gone.reply
    assert (busy.outcome, busy.code) == (Outcome.TRANSIENT, 452)
    assert fine.outcome is Outcome.SENT


def test_a_dropped_connection_is_transient_and_the_next_send_reconnects(
    smtpd: RunningSmtpServer, pool: SmtpPool
) -> None:
    with pool.connection(settings_for(smtpd)) as handle:
        first = send_message(
            handle, envelope_from="a@example.com", recipient="b@example.org", message=MESSAGE
        )
        assert first.outcome is Outcome.SENT
        # The server goes away under us (idle timeout, restart, network).
        assert handle.conn is not None
        handle.conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        dropped = send_message(
            handle, envelope_from="a@example.com", recipient="c@example.org", message=MESSAGE
        )
        assert dropped.outcome is Outcome.TRANSIENT and dropped.connection_broken
        again = send_message(
            handle, envelope_from="a@example.com", recipient="c@example.org", message=MESSAGE
        )
        assert again.outcome is Outcome.SENT
    assert smtpd.handler.authenticated_sessions == 2


def test_ssl_cert_file_is_honoured_for_verification(certificates: CertificateFiles) -> None:
    assert os.environ["SSL_CERT_FILE"] == str(certificates.ca_file)


def test_an_internationalised_domain_is_sent_in_its_ascii_form(
    smtpd: RunningSmtpServer, pool: SmtpPool
) -> None:
    with pool.connection(settings_for(smtpd)) as handle:
        result = send_message(
            handle, envelope_from="a@example.com", recipient="anna@bücher.example", message=MESSAGE
        )
    assert result.outcome is Outcome.SENT
    assert set(smtpd.handler.recipients()) == {"anna@xn--bcher-kva.example"}
