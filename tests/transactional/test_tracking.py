"""Opens and clicks of transactional mail, for templates that track them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from tracking import ingest
from transactional import services
from transactional.models import TxMessage, TxTemplate

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def send_receipt(template: TxTemplate) -> TxMessage:
    answer = services.send(
        services.SendRequest(
            to=[services.Recipient(email="ada@example.com")],
            template_id=template.pk,
            data={"order": "A-17"},
        ),
        scope="test",
    )
    return TxMessage.objects.select_related("payload").get(public_id=answer.messages[0].id)


def links_in(message: TxMessage) -> tuple[str, str]:
    """The pixel's and the first tracked link's paths ("" where there is none)."""
    assert message.payload is not None
    raw = bytes(message.payload.raw).decode()
    unfolded = re.sub(r"=\r\n", "", raw).replace("=3D", "=")
    pixel = re.search(r'(/t/o/x[0-9a-f]{32}\.[^"]+\.gif)', unfolded)
    click = re.search(r'(/t/c/x[0-9a-f]{32}\.[^"/]+/[A-Za-z0-9_-]+)', unfolded)
    return (pixel.group(1) if pixel else ""), (click.group(1) if click else "")


def test_a_tracking_template_counts_a_persons_first_open_and_click_on_the_message(
    clean_redis: None,
) -> None:
    template = TxTemplate.objects.create(
        name="Receipt",
        subject="Your receipt {{ order }}",
        html='<p><a href="https://shop.example.com/orders/{{ order }}">Order {{ order }}</a></p>',
        track_opens=True,
        track_clicks=True,
    )
    message = send_receipt(template)
    pixel, click = links_in(message)
    assert pixel and click
    # Sent a while ago: a fetch seconds after sending is a scanner's.
    TxMessage.objects.filter(pk=message.pk).update(
        status="sent", sent_at=timezone.now() - timedelta(minutes=5)
    )
    browser = Client(HTTP_USER_AGENT=BROWSER)
    assert browser.get(pixel).status_code == 200
    redirect = browser.get(click)
    assert redirect.status_code == 302
    assert redirect["Location"] == "https://shop.example.com/orders/A-17"
    assert ingest.drain() == 2
    message.refresh_from_db()
    assert message.opened_at is not None
    assert message.clicked_at is not None
    first_open = message.opened_at
    browser.get(pixel)
    ingest.drain()
    message.refresh_from_db()
    assert message.opened_at == first_open  # the first one stays


def test_machines_do_not_count_and_forged_links_are_404(clean_redis: None) -> None:
    template = TxTemplate.objects.create(
        name="Receipt",
        subject="Receipt",
        html='<p><a href="https://shop.example.com/o">view</a></p>',
        track_clicks=True,
    )
    message = send_receipt(template)
    pixel, click = links_in(message)
    assert click and not pixel
    TxMessage.objects.filter(pk=message.pk).update(status="sent", sent_at=timezone.now())
    # At once after sending: the receiving side's link scanner.
    assert Client(HTTP_USER_AGENT=BROWSER).get(click).status_code == 302
    ingest.drain()
    message.refresh_from_db()
    assert message.clicked_at is None
    forged = click.replace(message.public_id.hex, "0" * 32)
    assert Client().get(forged).status_code == 404


def test_templates_do_not_track_unless_asked(clean_redis: None) -> None:
    template = TxTemplate.objects.create(
        name="Reset",
        subject="Reset",
        html='<p><a href="https://shop.example.com/reset/1">reset</a></p>',
    )
    message = send_receipt(template)
    assert message.payload is not None
    raw = bytes(message.payload.raw)
    assert b"/t/c/" not in raw and b"/t/o/" not in raw
