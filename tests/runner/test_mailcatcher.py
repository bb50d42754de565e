"""The built-in mail catcher keeps what it is sent, byte for byte."""

from __future__ import annotations

import smtplib
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from delivery.mailcatcher import MailCatcher, start_mailcatcher, store_message
from delivery.models import CaughtMessage
from postino.embedded_redis import free_port

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def catcher() -> Iterator[MailCatcher]:
    controller = start_mailcatcher("127.0.0.1", free_port())
    yield controller
    controller.stop()


def wait_for_messages(count: int, timeout: float = 5.0) -> list[CaughtMessage]:
    # The handler answers 250 only after its write, but from another thread
    # and connection: poll briefly rather than assume visibility.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = list(CaughtMessage.objects.order_by("id"))
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError(f"expected {count} caught messages, found {CaughtMessage.objects.count()}")


def test_it_stores_a_message_with_envelope_decoded_subject_and_raw_bytes(
    catcher: MailCatcher,
) -> None:
    message = EmailMessage()
    message["From"] = "Postino <news@example.com>"
    message["To"] = "ana@example.com, bruno@example.com"
    message["Subject"] = "Olá, Zoë: café ☕ at 5"
    message.set_content("Ciao! Ünïcödé body.\n")
    raw = message.as_bytes(policy=SMTP)
    with smtplib.SMTP(catcher.hostname, catcher.port, timeout=10) as client:
        refused = client.sendmail(
            "bounces+42@example.com", ["ana@example.com", "bruno@example.com"], raw
        )
    assert refused == {}

    [caught] = wait_for_messages(1)
    assert caught.mail_from == "bounces+42@example.com"
    assert caught.rcpt_to == ["ana@example.com", "bruno@example.com"]
    assert caught.subject == "Olá, Zoë: café ☕ at 5"
    assert b"=?utf-8?" in raw  # the header really was RFC 2047 encoded on the wire
    assert bytes(caught.raw) == raw


def test_it_accepts_smtputf8_addresses_and_8bit_bodies(catcher: MailCatcher) -> None:
    raw = (
        "From: José <josé@exemplo.pt>\r\n"
        "To: zoë@example.com\r\n"
        "Subject: ação\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        "Olá, mundo\r\n"
    ).encode()
    with smtplib.SMTP(catcher.hostname, catcher.port, timeout=10) as client:
        client.ehlo()
        assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
        client.sendmail(
            "josé@exemplo.pt", ["zoë@example.com"], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
        )

    [caught] = wait_for_messages(1)
    assert caught.mail_from == "josé@exemplo.pt"
    assert caught.rcpt_to == ["zoë@example.com"]
    assert caught.subject == "ação"
    assert bytes(caught.raw) == raw


def test_it_keeps_only_the_newest_messages() -> None:
    for n in range(5):
        store_message(
            mail_from="a@example.com",
            rcpt_to=["b@example.com"],
            raw=f"Subject: message {n}\r\n\r\nbody\r\n".encode(),
            keep=3,
        )
    assert list(CaughtMessage.objects.order_by("id").values_list("subject", flat=True)) == [
        "message 2",
        "message 3",
        "message 4",
    ]


def test_it_accepts_messages_of_several_megabytes(catcher: MailCatcher) -> None:
    line = b"x" * 998 + b"\r\n"
    raw = b"Subject: big\r\n\r\n" + line * 5000  # about 5 MB
    with smtplib.SMTP(catcher.hostname, catcher.port, timeout=30) as client:
        client.sendmail("a@example.com", ["b@example.com"], raw)

    [caught] = wait_for_messages(1)
    assert bytes(caught.raw) == raw
