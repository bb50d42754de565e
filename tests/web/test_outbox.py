from __future__ import annotations

from email.message import EmailMessage

import pytest
from django.test import Client
from django.urls import reverse

from delivery.models import CaughtMessage


def _caught(subject: str = "Spring news", to: str = "alice@example.com") -> CaughtMessage:
    message = EmailMessage()
    message["From"] = "News <news@example.com>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Hello Alice, plain text.")
    message.add_alternative(
        "<p>Hello <b>Alice</b></p><script>parent.alert(1)</script>", subtype="html"
    )
    return CaughtMessage.objects.create(
        mail_from="bounces@example.com", rcpt_to=[to], subject=subject, raw=message.as_bytes()
    )


@pytest.mark.usefixtures("mailcatcher_off")
def test_the_outbox_is_not_there_without_the_mailcatcher(teammate_client: Client) -> None:
    message = _caught()
    for url in (
        reverse("delivery:outbox"),
        reverse("delivery:outbox_detail", args=[message.pk]),
        reverse("delivery:outbox_raw", args=[message.pk]),
    ):
        assert teammate_client.get(url).status_code == 404
    assert teammate_client.post(reverse("delivery:outbox_clear")).status_code == 404
    assert CaughtMessage.objects.exists()


@pytest.mark.usefixtures("mailcatcher_on")
def test_an_empty_outbox_says_how_to_fill_it(teammate_client: Client, db: None) -> None:
    response = teammate_client.get(reverse("delivery:outbox"))
    assert b"The outbox is empty" in response.content


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_outbox_lists_newest_first_with_keyset_pages(
    teammate_client: Client, db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("delivery.views.OUTBOX_PAGE_SIZE", 2)
    messages = [_caught(subject=f"Message {i}") for i in range(3)]
    first = teammate_client.get(reverse("delivery:outbox"))
    assert list(first.context["page"].items) == [messages[2], messages[1]]
    assert f"?before={messages[1].pk}".encode() in first.content
    second = teammate_client.get(reverse("delivery:outbox"), {"before": messages[1].pk})
    assert list(second.context["page"].items) == [messages[0]]
    assert second.context["page"].next_key is None


@pytest.mark.usefixtures("mailcatcher_on")
def test_a_caught_message_shows_headers_html_in_a_sandbox_and_text(
    teammate_client: Client, db: None
) -> None:
    message = _caught()
    page = teammate_client.get(reverse("delivery:outbox_detail", args=[message.pk])).content
    text = page.decode()
    assert "News &lt;news@example.com&gt;" in text  # the From header
    assert '<iframe class="preview-frame" title="HTML part" sandbox srcdoc="' in text
    assert "&lt;p&gt;Hello &lt;b&gt;Alice&lt;/b&gt;&lt;/p&gt;" in text
    assert "<script>parent" not in text
    assert "Hello Alice, plain text." in text


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_raw_view_is_plain_text(teammate_client: Client, db: None) -> None:
    message = _caught()
    response = teammate_client.get(reverse("delivery:outbox_raw", args=[message.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response.content == bytes(message.raw)


@pytest.mark.usefixtures("mailcatcher_on")
def test_clearing_the_outbox(teammate_client: Client, db: None) -> None:
    _caught()
    _caught()
    response = teammate_client.post(reverse("delivery:outbox_clear"), follow=True)
    assert not CaughtMessage.objects.exists()
    assert "Outbox cleared (2 messages removed)." in response.content.decode()
