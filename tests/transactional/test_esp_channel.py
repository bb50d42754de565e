"""Transactional mail through an ESP channel: the stored message's parts go to
the provider's API (faked at the HTTP boundary), one recipient per call."""

from __future__ import annotations

import base64

import pytest

from bounces.services import record_event
from delivery.mime import Attachment
from delivery.services import create_esp_server
from tests.support.esp import install_fake_api, postmark_ok
from transactional import sending, services
from transactional.credentials import create_credential
from transactional.models import TxMessage

pytestmark = pytest.mark.django_db


def test_an_api_send_with_an_attachment_goes_through_the_esp_and_its_bounce_comes_back(
    monkeypatch: pytest.MonkeyPatch, clean_redis: None
) -> None:
    api = install_fake_api(monkeypatch, postmark_ok)
    esp = create_esp_server(name="Postmark", esp="postmark", credentials={"server_token": "t"})
    answer = services.send(
        services.SendRequest(
            to=[services.Recipient(email="ada@example.com")],
            subject="Invoice {{ n }}",
            html="<p>Invoice {{ n }}</p>",
            data={"n": 7},
            headers={"X-Order": "7"},
            attachments=[Attachment("invoice.pdf", "application/pdf", b"%PDF-1.4")],
            channel="Postmark",
        ),
        scope="test",
    )
    assert sending.drain() == 1
    (call,) = api.calls
    payload = call["payload"]
    assert payload["To"] == "ada@example.com"
    assert payload["Subject"] == "Invoice 7"
    assert "Invoice 7" in payload["HtmlBody"]
    assert {"Name": "X-Order", "Value": "7"} in payload["Headers"]
    (attachment,) = payload["Attachments"]
    assert attachment["Name"] == "invoice.pdf"
    assert base64.b64decode(attachment["Content"]) == b"%PDF-1.4"
    message = TxMessage.objects.get(public_id=answer.messages[0].id)
    assert (message.status, message.smtp_server_id) == ("sent", esp.pk)
    assert message.provider_message_id == "pm-ada@example.com"

    # The ESP's bounce webhook finds the message by the provider's id.
    event = record_event(
        kind="hard",
        email="ada@example.com",
        provider="postmark",
        event_id="evt-1",
        provider_message_id="pm-ada@example.com",
    )
    assert event is not None and event.tx_message_id == message.pk
    message.refresh_from_db()
    assert message.status == "bounced"


def test_a_relay_message_to_several_recipients_is_one_call_each(
    monkeypatch: pytest.MonkeyPatch, clean_redis: None
) -> None:
    api = install_fake_api(monkeypatch, postmark_ok)
    esp = create_esp_server(name="Postmark", esp="postmark", credentials={"server_token": "t"})
    shop = create_credential(name="Shop", channel=esp).credential
    raw = (
        b"From: shop@shop.example.com\r\nTo: a@example.com, b@example.com\r\n"
        b"Subject: Shipped\r\nContent-Type: text/plain\r\n\r\nYour parcel left.\r\n"
    )
    services.accept_relay(
        credential=shop,
        mail_from="shop@shop.example.com",
        rcpt_tos=["a@example.com", "b@example.com"],
        raw=raw,
    )
    assert sending.drain() == 2
    assert sorted(call["payload"]["To"] for call in api.calls) == ["a@example.com", "b@example.com"]
    assert all("Your parcel left." in call["payload"]["TextBody"] for call in api.calls)
