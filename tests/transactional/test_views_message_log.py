"""The message log: filters, keyset pages, a bounded number of queries, and a
message's page with its bounces and headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from bounces.models import BounceEvent
from transactional.models import Category, TxMessage, TxPayload, TxTemplate

pytestmark = pytest.mark.django_db

LOG = "/transactional/messages/"


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def receipt() -> TxTemplate:
    return TxTemplate.objects.create(name="Receipt", subject="Receipt", html="<p>x</p>")


def message(email: str, **fields: Any) -> TxMessage:
    fields.setdefault("source", TxMessage.Source.API)
    return TxMessage.objects.create(email=email, subject=f"To {email}", **fields)


def shown(client: Client, query: str = "") -> list[str]:
    answer = client.get(f"{LOG}?{query}")
    assert answer.status_code == 200
    return [row.email for row, _badge in answer.context["rows"]]


def test_each_filter_narrows_the_log(teammate_client: Client, receipt: TxTemplate) -> None:
    resets = Category.objects.create(name="resets")
    message("ada@example.com", status="sent", template=receipt)
    message("adam@example.com", status="bounced", source="relay", category=resets)
    message("grace@example.org", status="failed", template=receipt)
    old = message("ada@example.com", status="sent")
    TxMessage.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    assert shown(teammate_client, "q=ADA") == [
        "adam@example.com",
        "ada@example.com",
        "ada@example.com",
    ]
    assert shown(teammate_client, "q=ada@example.com&match=exact") == ["ada@example.com"] * 2
    assert shown(teammate_client, "status=failed") == ["grace@example.org"]
    assert shown(teammate_client, f"template={receipt.pk}") == [
        "grace@example.org",
        "ada@example.com",
    ]
    assert shown(teammate_client, f"category={resets.pk}") == ["adam@example.com"]
    assert shown(teammate_client, "source=relay") == ["adam@example.com"]
    since = (timezone.localdate() - timedelta(days=1)).isoformat()
    assert len(shown(teammate_client, f"since={since}")) == 3
    until = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert shown(teammate_client, f"until={until}") == ["ada@example.com"]
    # Junk in a filter is ignored, not an error page.
    assert len(shown(teammate_client, "status=nope&since=yesterday&after=x")) == 4


def test_pages_follow_each_other_without_gaps_or_repeats(
    teammate_client: Client, settings: Any
) -> None:
    moment = timezone.now()
    made = [message(f"r{i:03}@example.com") for i in range(120)]
    # Many rows of one instant: the id must break the tie.
    TxMessage.objects.filter(pk__in=[m.pk for m in made[:80]]).update(created_at=moment)
    seen: list[str] = []
    query = ""
    while True:
        answer = teammate_client.get(f"{LOG}?{query}")
        seen += [row.email for row, _badge in answer.context["rows"]]
        cursor = answer.context["page"].next_cursor
        if not cursor:
            break
        query = f"after={cursor}"
    assert sorted(seen) == sorted(m.email for m in made)
    assert len(seen) == len(set(seen)) == 120


def test_the_log_costs_the_same_few_queries_however_many_rows(
    teammate_client: Client, receipt: TxTemplate, django_assert_max_num_queries: Any
) -> None:
    resets = Category.objects.create(name="resets")
    for i in range(60):
        message(f"p{i}@example.com", template=receipt, category=resets)
    # Session and user, the messages with their templates and categories, and
    # the two filter menus: never one more per row.
    with django_assert_max_num_queries(5):
        answer = teammate_client.get(f"{LOG}?status=queued")
    assert len(answer.context["rows"]) == 50
    assert "Receipt" in answer.content.decode()


def test_a_message_page_shows_its_fields_bounces_and_headers_only(
    teammate_client: Client, receipt: TxTemplate
) -> None:
    body = b"<script>alert(1)</script> the body, never shown"
    headers = b"From: Shop <orders@shop.example.com>\r\nSubject: <b>Receipt</b>\r\n"
    payload = TxPayload.objects.create(raw=headers + b"\r\n" + body)
    sent = message(
        "ada@example.com",
        template=receipt,
        payload=payload,
        status="bounced",
        attempts=2,
        smtp_code=250,
        smtp_reply="2.0.0 Ok: queued as 4F1A",
        message_id="<abc@shop.example.com>",
    )
    BounceEvent.objects.create(
        kind="hard",
        source="inbound",
        email="ada@example.com",
        status="5.1.1",
        diagnostic="User unknown",
        tx_message=sent,
    )
    answer = teammate_client.get(f"{LOG}{sent.public_id}/")
    html = answer.content.decode()
    assert "2.0.0 Ok: queued as 4F1A" in html and "&lt;abc@shop.example.com&gt;" in html
    assert "User unknown" in html and "5.1.1" in html
    assert "Subject: &lt;b&gt;Receipt&lt;/b&gt;" in html
    assert "never shown" not in html
    assert "not tracked" in html  # the template tracks neither opens nor clicks


def test_long_headers_are_cut_at_8_kb(teammate_client: Client) -> None:
    long = b"X-Long: " + b"a" * 20_000 + b"\r\n\r\nbody"
    sent = message("ada@example.com", payload=TxPayload.objects.create(raw=long))
    detail = teammate_client.get(f"{LOG}{sent.public_id}/").context["detail"]
    assert detail.headers_cut and len(detail.headers) == 8 * 1024
    assert detail.payload_size == len(long)


def test_an_unknown_message_is_not_found(teammate_client: Client) -> None:
    assert teammate_client.get(f"{LOG}00000000-0000-0000-0000-000000000000/").status_code == 404


def test_the_landing_page_counts_today_and_the_week_per_status(teammate_client: Client) -> None:
    message("a@example.com", status="sent")
    message("b@example.com", status="sent")
    earlier = message("c@example.com", status="failed")
    TxMessage.objects.filter(pk=earlier.pk).update(created_at=timezone.now() - timedelta(days=3))
    answer = teammate_client.get("/transactional/")
    volume = {row.status: (row.today, row.week) for row, _badge in answer.context["volume"]}
    assert volume["sent"] == (2, 2)
    assert volume["failed"] == (0, 1)
    assert "/api/v1/tx" in answer.content.decode()
