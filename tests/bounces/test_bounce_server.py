"""The bounce server: a real SMTP listener on loopback, fed with smtplib."""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from bounces.inbound import handle_inbound, start_bounce_server
from bounces.models import InboundMessage
from delivery import verp
from delivery.models import Delivery, SmtpServer
from subscribers.models import Subscription
from subscribers.tokens import Purpose, make_token
from tests.support.certs import CertificateFiles, make_certificates
from tests.support.factories import add_audience, make_campaign, make_list
from tests.support.smtpd import free_port

pytestmark = pytest.mark.django_db(transaction=True)

DOMAIN = "postino.example.com"


@pytest.fixture
def certificates(tmp_path: Path) -> CertificateFiles:
    return make_certificates(tmp_path / "certs")


@pytest.fixture
def bounce_server(certificates: CertificateFiles) -> Iterator[tuple[Controller, int]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificates.cert_file, certificates.key_file)
    port = free_port()
    controller = start_bounce_server("127.0.0.1", port, tls=context)
    yield controller, port
    controller.stop()


@pytest.fixture
def delivery() -> Delivery:
    server = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=25, security="none")
    news = make_list()
    (reader,) = add_audience(news, 1)
    campaign = make_campaign(lists=[news], server=server)
    return Delivery.objects.create(campaign=campaign, subscriber=reader, status="sent")


DSN = """From: MAILER-DAEMON@mx.example.org
To: {to}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown

--b1--
"""


def wait_for_inbound(count: int) -> list[InboundMessage]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        messages = list(InboundMessage.objects.order_by("id"))
        if len(messages) >= count:
            return messages
        time.sleep(0.05)
    raise AssertionError("the bounce server stored nothing")


def test_a_dsn_to_our_verp_address_is_stored_then_recorded_against_its_delivery(
    bounce_server: tuple[Controller, int], delivery: Delivery, certificates: CertificateFiles
) -> None:
    _, port = bounce_server
    address = verp.envelope_sender(delivery.pk)
    body = DSN.format(to=address, rcpt=delivery.subscriber.email).replace("\n", "\r\n")
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.starttls(context=ssl.create_default_context(cafile=certificates.ca_file))
        client.sendmail("", [address], body.encode())

    (stored,) = wait_for_inbound(1)
    assert stored.rcpt_to == [address]
    assert b"Recipient address rejected" in bytes(stored.raw)

    pytest.importorskip("bounces.parser")
    (event,) = handle_inbound(stored.pk)
    assert (event.kind, event.status, event.source) == ("hard", "5.1.1", "inbound")
    assert event.delivery_id == delivery.pk
    stored.refresh_from_db()
    assert stored.processed_at is not None and stored.error == ""
    assert handle_inbound(stored.pk) == [], "processing twice does nothing"


def test_it_is_no_open_relay(bounce_server: tuple[Controller, int]) -> None:
    _, port = bounce_server
    with smtplib.SMTP("127.0.0.1", port) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            client.sendmail("spammer@example.net", ["victim@example.org"], b"Subject: hi\r\n\r\nx")
        code, reply = refused.value.recipients["victim@example.org"]
    assert code == 550 and b"Relaying denied" in reply
    assert not InboundMessage.objects.exists()


def test_a_mail_to_the_unsubscribe_address_unsubscribes(
    bounce_server: tuple[Controller, int], delivery: Delivery
) -> None:
    _, port = bounce_server
    token = make_token(
        Purpose.UNSUBSCRIBE, subscriber_id=delivery.subscriber_id, campaign_id=delivery.campaign_id
    )
    address = f"unsubscribe+{token}@{DOMAIN}"
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail(
            delivery.subscriber.email, [address], b"Subject: unsubscribe\r\n\r\nunsubscribe"
        )
    (stored,) = wait_for_inbound(1)
    handle_inbound(stored.pk)
    statuses = set(
        Subscription.objects.filter(subscriber=delivery.subscriber).values_list("status", flat=True)
    )
    assert statuses == {"unsubscribed"}


def test_a_forged_unsubscribe_address_changes_nothing(
    bounce_server: tuple[Controller, int], delivery: Delivery
) -> None:
    _, port = bounce_server
    address = f"unsubscribe+{delivery.subscriber_id:x}-{delivery.campaign_id:x}.forged@{DOMAIN}"
    with smtplib.SMTP("127.0.0.1", port) as client:
        client.sendmail("x@example.net", [address], b"Subject: unsubscribe\r\n\r\n")
    (stored,) = wait_for_inbound(1)
    handle_inbound(stored.pk)
    assert set(
        Subscription.objects.filter(subscriber=delivery.subscriber).values_list("status", flat=True)
    ) == {"confirmed"}
