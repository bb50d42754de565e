"""The relay's management commands: a login for an application, and the server itself."""

from __future__ import annotations

import io
import re
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.support.certs import CertificateFiles
from tests.support.ports import free_port
from tests.transactional.conftest import RunningRelay, order_confirmation, submit
from transactional.models import RelayCredential
from transactional.relay import ensure_dev_certificate, start_relay, tls_context

BASE_DIR = Path(__file__).resolve().parents[2]


def test_create_relay_credential_prints_a_login_that_the_relay_accepts(
    relay: RunningRelay,
) -> None:
    out = io.StringIO()

    call_command(
        "create_relay_credential",
        "Shop",
        "--from-domain",
        "Shop.Example.com",
        "--per-minute",
        "60",
        "--per-day",
        "5000",
        "--max-bytes",
        "200000",
        stdout=out,
    )

    printed = out.getvalue()
    username = re.search(r"Username +(\S+)", printed)
    password = re.search(r"Password +(\S+)", printed)
    assert username and password, printed
    credential = RelayCredential.objects.get(username=username.group(1))
    assert credential.name == "Shop"
    assert credential.allowed_from_domains == ["shop.example.com"]
    assert (credential.messages_per_minute, credential.messages_per_day) == (60, 5000)
    assert credential.max_message_bytes == 200_000
    # Only the hash is kept: the password is nowhere in the database.
    assert password.group(1) not in credential.password_hash
    with relay.connect() as client:
        client.login(username.group(1), password.group(1))
        assert submit(client, order_confirmation())[0] == 250


def test_create_relay_credential_refuses_a_name_in_use_and_a_bad_domain(db: None) -> None:
    call_command("create_relay_credential", "Shop", stdout=io.StringIO())
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_relay_credential", "Shop", stdout=io.StringIO())
    with pytest.raises(CommandError, match="not a domain"):
        call_command(
            "create_relay_credential", "Other", "--from-domain", "nodots", stdout=io.StringIO()
        )


def test_the_relay_will_not_start_without_a_certificate(settings: Any) -> None:
    settings.POSTINO = {**settings.POSTINO, "SMTP_RELAY_TLS_CERT": "", "SMTP_RELAY_TLS_KEY": ""}
    with pytest.raises(CommandError, match="SMTP_RELAY_TLS_CERT"):
        call_command("smtp_relay", "--port", "1")


def test_the_relay_names_a_certificate_it_cannot_read(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(CommandError, match="cannot load"):
        call_command("smtp_relay", "--port", "1", "--tls-cert", missing, "--tls-key", missing)


def test_the_development_certificate_is_made_once_with_a_private_key(tmp_path: Path) -> None:
    cert, key = tmp_path / "tls" / "cert.pem", tmp_path / "tls" / "key.pem"

    assert ensure_dev_certificate(cert, key) is True
    first = cert.read_bytes()
    assert ensure_dev_certificate(cert, key) is False

    assert cert.read_bytes() == first
    assert key.stat().st_mode & 0o077 == 0
    tls_context(cert, key)  # a usable pair


def test_a_client_trusting_the_development_certificate_can_start_tls(
    transactional_db: None, clean_redis: None, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ensure_dev_certificate(cert, key)
    port = free_port()
    relay = start_relay("127.0.0.1", port, tls=tls_context(cert, key), db_threads=1)
    try:
        running = RunningRelay("127.0.0.1", port, str(cert))
        with running.connect() as client:
            assert "PLAIN" in client.esmtp_features["auth"]
    finally:
        relay.stop()


def test_the_relay_command_serves_until_sigterm_then_stops_cleanly(
    certificates: CertificateFiles,
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "smtp_relay", "--port", str(port),
         "--tls-cert", str(certificates.cert_file), "--tls-key", str(certificates.key_file)],
        cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "SMTP relay listening" in process.stdout.readline()
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.ehlo()[0] == 250
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "SMTP relay stopped" in output


def _relay_siblings(port: int) -> list[int]:
    """Pids of relay processes started beside another one, on ``port``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--reuse-port" in argv and str(port).encode() in argv:
            found.append(int(entry.name))
    return found


def test_several_relay_processes_share_the_port_and_stop_together(
    certificates: CertificateFiles,
) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "smtp_relay", "--port", str(port), "--processes", "2",
         "--tls-cert", str(certificates.cert_file), "--tls-key", str(certificates.key_file)],
        cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        assert "2 processes" in process.stdout.readline()
        deadline = time.monotonic() + 20
        while not _relay_siblings(port):
            assert time.monotonic() < deadline, "the second relay process never started"
            time.sleep(0.1)
        (sibling,) = _relay_siblings(port)
        # Wherever the kernel hands a connection, a relay greets it.
        for _ in range(12):
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                assert client.ehlo()[0] == 250
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert sibling not in _relay_siblings(port)  # stopped with the first
