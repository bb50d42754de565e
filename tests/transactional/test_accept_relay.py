"""What the relay stores and sends for a message it accepted (the SMTP
dialogue itself is in test_relay_*.py)."""

from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from subscribers.services import create_list, create_subscriber
from tests.support.factories import make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from transactional import sending, services
from transactional.credentials import create_credential
from transactional.models import Category, TxMessage

pytestmark = pytest.mark.django_db

MESSAGE = (
    b"From: Shop <news@shop.example.com>\r\n"
    b"To: reader@example.com\r\n"
    b"Bcc: boss@shop.example.com\r\n"
    b"Subject: Spring offers\r\n"
    b"X-Postino-Category: offers\r\n"
    b"List-Unsubscribe: <https://shop.example.com/their-own>\r\n"
    b"DKIM-Signature: v=1; a=rsa-sha256; d=shop.example.com; s=x; b=abc\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"Hello.\r\n"
)


def parsed(raw: bytes) -> EmailMessage:
    message = message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def test_a_marketing_message_gets_our_one_click_unsubscribe_per_recipient(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    make_smtp_server(smtpd)
    Category.objects.create(name="offers", marketing=True)
    news = create_list(name="News")
    create_subscriber(email="reader@example.com", lists=[news], preconfirm=True)
    shop = create_credential(name="Shop", allowed_from_domains=["shop.example.com"]).credential
    accepted = services.accept_relay(
        credential=shop,
        mail_from="news@shop.example.com",
        rcpt_tos=["reader@example.com", "stranger@example.com"],
        raw=MESSAGE,
    )
    statuses = dict(TxMessage.objects.values_list("email", "status"))
    assert statuses == {"reader@example.com": "queued", "stranger@example.com": "refused"}
    assert len(accepted.ids) == 2
    stored = TxMessage.objects.get(email="reader@example.com")
    assert stored.payload is not None
    kept = parsed(bytes(stored.payload.raw))
    assert kept["Bcc"] is None  # never travels
    assert kept["X-Postino-Category"] == "offers"
    assert kept["Message-ID"] and kept["Message-ID"] == stored.message_id
    assert kept["DKIM-Signature"] is not None  # kept unless TX_REPLACE_DKIM

    assert sending.drain() == 1
    (arrived,) = smtpd.handler.messages
    sent = parsed(arrived.data)
    (unsubscribe,) = sent.get_all("List-Unsubscribe") or []
    assert "their-own" not in unsubscribe
    assert unsubscribe.startswith("<http")
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert arrived.rcpt_tos == ("reader@example.com",)


def test_the_senders_signature_goes_when_ours_replaces_it(settings: Any) -> None:
    settings.POSTINO = {**settings.POSTINO, "TX_REPLACE_DKIM": True}
    shop = create_credential(name="Shop").credential
    services.accept_relay(
        credential=shop, mail_from="a@shop.example.com", rcpt_tos=["x@example.com"], raw=MESSAGE
    )
    stored = TxMessage.objects.get()
    assert stored.payload is not None
    assert parsed(bytes(stored.payload.raw))["DKIM-Signature"] is None


def test_a_foreign_from_header_is_refused_and_an_idempotency_key_stores_once() -> None:
    shop = create_credential(name="Shop", allowed_from_domains=["shop.example.com"]).credential
    with pytest.raises(services.RelayRefused) as refused:
        services.accept_relay(
            credential=shop,
            mail_from="news@shop.example.com",
            rcpt_tos=["x@example.com"],
            raw=MESSAGE.replace(b"news@shop.example.com", b"ceo@bank.example"),
        )
    assert (refused.value.code, refused.value.status) == (550, "5.7.1")
    keyed = b"Idempotency-Key: order-9\r\n" + MESSAGE
    first = services.accept_relay(
        credential=shop, mail_from="a@shop.example.com", rcpt_tos=["x@example.com"], raw=keyed
    )
    again = services.accept_relay(
        credential=shop, mail_from="a@shop.example.com", rcpt_tos=["x@example.com"], raw=keyed
    )
    assert again.duplicate and again.ids == first.ids
    assert TxMessage.objects.count() == 1
    stored = TxMessage.objects.get()
    assert stored.payload is not None
    assert b"Idempotency-Key" not in bytes(stored.payload.raw)


def test_headers_are_read_as_written_encoded_folded_or_in_raw_utf8(clean_redis: None) -> None:
    shop = create_credential(name="Shop", allowed_from_domains=["shop.example.com"]).credential
    raw = (
        b"From: =?utf-8?q?Caf=C3=A9_Cr=C3=A8me?= <orders@Shop.example.com>\r\n"
        b"To: reader@example.com\r\n"
        b"Subject: =?utf-8?b?WW91ciBvcmRlciDinJM=?=\r\n"
        b"  shipped\r\n"
        b"Message-ID:\r\n <order-7@shop.example.com>\r\n"
        b"Idempotency-Key: order-7\r\n"
        b"\r\n"
        b"Hello.\r\n"
    )
    services.accept_relay(
        credential=shop, mail_from="orders@shop.example.com", rcpt_tos=["a@example.com"], raw=raw
    )
    stored = TxMessage.objects.get()
    assert (stored.subject, stored.message_id, stored.from_email) == (
        "Your order \u2713 shipped",
        "<order-7@shop.example.com>",
        "orders@shop.example.com",
    )
    again = services.accept_relay(
        credential=shop, mail_from="orders@shop.example.com", rcpt_tos=["a@example.com"], raw=raw
    )
    assert again.duplicate  # the key was read from its header
    utf8 = "From: orders@shop.example.com\r\nSubject: Grüße aus Köln\r\n\r\nHallo.\r\n"
    services.accept_relay(
        credential=shop,
        mail_from="orders@shop.example.com",
        rcpt_tos=["b@example.com"],
        raw=utf8.encode(),
    )
    assert TxMessage.objects.get(email="b@example.com").subject == "Grüße aus Köln"
