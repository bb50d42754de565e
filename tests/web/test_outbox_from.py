"""The Outbox shows who a message is from as its reader sees it, not the VERP envelope."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse

from delivery.models import CaughtMessage

VERP = "bounces+c12.s34.abc@bounces.example.com"


def _caught(from_header: str | None, subject: str = "Spring news") -> CaughtMessage:
    message = EmailMessage()
    if from_header is not None:
        message["From"] = from_header
    message["To"] = "alice@example.com"
    message["Subject"] = subject
    message.set_content("Hello")
    return CaughtMessage.objects.create(
        mail_from=VERP, rcpt_to=["alice@example.com"], subject=subject, raw=message.as_bytes()
    )


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_list_shows_the_decoded_from_header(teammate_client: Client, db: None) -> None:
    _caught("Zoë's Café <news@example.com>")
    body = teammate_client.get(reverse("delivery:outbox")).content.decode()
    assert "Zoë&#x27;s Café &lt;news@example.com&gt;" in body
    assert VERP not in body


@pytest.mark.usefixtures("mailcatcher_on")
def test_a_message_without_a_from_header_falls_back_to_the_envelope(
    teammate_client: Client, db: None
) -> None:
    _caught(None)
    body = teammate_client.get(reverse("delivery:outbox")).content.decode()
    assert "envelope sender shown" in body
    assert VERP in body


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_detail_keeps_the_envelope_sender_visible(teammate_client: Client, db: None) -> None:
    message = _caught("News <news@example.com>")
    body = teammate_client.get(reverse("delivery:outbox_detail", args=[message.pk])).content
    text = body.decode()
    assert '<span data-role="from-header">News &lt;news@example.com&gt;</span>' in text
    assert f'<span data-role="envelope-sender">{VERP}</span>' in text


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_list_costs_the_same_queries_for_one_message_or_many(
    teammate_client: Client, db: None, django_assert_max_num_queries: object
) -> None:
    for i in range(30):
        _caught(f"Sender {i} <s{i}@example.com>", subject=f"Message {i}")
    with django_assert_max_num_queries(4):  # type: ignore[operator]
        body = teammate_client.get(reverse("delivery:outbox")).content.decode()
    assert "Sender 29 &lt;s29@example.com&gt;" in body
