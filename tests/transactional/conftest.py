"""The SMTP relay on a free loopback port, with the suite's test certificate,
and an application's login to it ("the shop", allowed to send from
shop.example.com)."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.certs import CertificateFiles
from tests.support.jobs import QueuedJobs
from tests.support.ports import free_port
from transactional.credentials import NewCredential, create_credential
from transactional.relay import start_relay, tls_context

SHOP_DOMAIN = "shop.example.com"


@dataclass(frozen=True)
class RunningRelay:
    host: str
    port: int
    ca_file: str
    implicit_tls: bool = False

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)

    def connect(self, *, tls: bool = True) -> smtplib.SMTP:
        """A client that said EHLO (after STARTTLS, with ``tls``), not logged in."""
        client: smtplib.SMTP
        if self.implicit_tls:
            client = smtplib.SMTP_SSL(
                self.host, self.port, context=self.client_context(), timeout=10
            )
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=10)
            if tls:
                client.starttls(context=self.client_context())
        client.ehlo("app.example.com")
        return client

    def login(self, shop: NewCredential) -> smtplib.SMTP:
        client = self.connect()
        client.login(shop.credential.username, shop.password)
        return client


def _run_relay(certificates: CertificateFiles, *, implicit_tls: bool) -> Iterator[RunningRelay]:
    port = free_port()
    context = tls_context(certificates.cert_file, certificates.key_file)
    relay = start_relay("127.0.0.1", port, tls=context, implicit_tls=implicit_tls, db_threads=2)
    try:
        yield RunningRelay("127.0.0.1", port, str(certificates.ca_file), implicit_tls)
    finally:
        relay.stop()


@pytest.fixture
def relay(
    transactional_db: None,
    certificates: CertificateFiles,
    clean_redis: None,
    queued_jobs: QueuedJobs,
) -> Iterator[RunningRelay]:
    """The relay in STARTTLS mode. Its threads have database connections of
    their own, so the test's data is committed (``transactional_db``)."""
    yield from _run_relay(certificates, implicit_tls=False)


@pytest.fixture
def implicit_tls_relay(
    transactional_db: None,
    certificates: CertificateFiles,
    clean_redis: None,
    queued_jobs: QueuedJobs,
) -> Iterator[RunningRelay]:
    yield from _run_relay(certificates, implicit_tls=True)


@pytest.fixture
def shop(transactional_db: None) -> NewCredential:
    return create_credential(name="Shop", allowed_from_domains=[SHOP_DOMAIN])


def order_confirmation(
    *,
    to: str = "ada@example.com",
    sender: str = f"orders@{SHOP_DOMAIN}",
    headers: dict[str, str] | None = None,
    body: str = "Thank you for your order.",
) -> bytes:
    """A message as an application writes it: no Message-ID, no Date needed."""
    lines = [f"From: Shop <{sender}>", f"To: {to}", "Subject: Your order"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", body, ""]
    return "\r\n".join(lines).encode()


def submit(
    client: smtplib.SMTP,
    message: bytes,
    *,
    mail_from: str = f"orders@{SHOP_DOMAIN}",
    rcpt_to: tuple[str, ...] = ("ada@example.com",),
) -> tuple[int, str]:
    """MAIL, RCPT and DATA one by one; the first reply that is not a success,
    else DATA's (the one naming the stored messages)."""
    code, reply = client.mail(mail_from)
    if code != 250:
        client.rset()
        return code, reply.decode()
    for address in rcpt_to:
        code, reply = client.rcpt(address)
        if code != 250:
            client.rset()
            return code, reply.decode()
    code, reply = client.data(message)
    return code, reply.decode()


def queued_ids(reply: str) -> list[str]:
    """The public ids a 250 reply names (``Ok: queued as <id> <id>``)."""
    return [word for line in reply.splitlines() for word in line.split("queued as", 1)[1].split()]
