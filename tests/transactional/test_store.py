"""transactional.store: PostgreSQL's one statement writes the rows the ORM would."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone

from subscribers.services import create_subscriber
from transactional import store
from transactional.models import Category, TxMessage, TxPayload

pytestmark = pytest.mark.django_db

# Fields that differ between two stores of the same messages by nature.
OWN = {"id", "public_id", "payload", "created_at", "updated_at", "next_attempt_at"}


def messages(tag: str, category: Category, subscriber_id: int | None) -> list[store.NewMessage]:
    return [
        store.NewMessage(
            source=TxMessage.Source.API,
            email=f"{tag}-ada@example.com",
            subscriber_id=subscriber_id,
            category_id=category.pk,
            from_email="shop@example.com",
            subject="Your order",
            message_id=f"<{tag}@example.com>",
            raw=f"Subject: Your order {tag}\r\n\r\nHello".encode(),
        ),
        store.NewMessage(
            source=TxMessage.Source.API,
            email=f"{tag}-bob@example.com",
            status=TxMessage.Status.REFUSED,
            smtp_reply="suppressed: the address bounced hard",
        ),
    ]


def row(message: TxMessage) -> dict[str, Any]:
    fields = [f.name for f in TxMessage._meta.concrete_fields if f.name not in OWN]
    values = {name: getattr(message, name) for name in fields}
    values["email"] = message.email.split("-", 1)[1]
    values["message_id"] = bool(message.message_id)
    values["payload"] = bytes(message.payload.raw)[-5:] if message.payload else None
    return values


def test_both_stores_write_the_same_rows_and_payloads() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement store is PostgreSQL's")
    category = Category.objects.create(name="orders")
    subscriber = create_subscriber(email="ada@example.com")
    now = timezone.now()
    store._store_postgresql(messages("pg", category, subscriber.pk), None, False, now)
    with transaction.atomic():
        store._store_orm(messages("orm", category, subscriber.pk), None, False, now)
    pg = TxMessage.objects.filter(email__startswith="pg-").order_by("email")
    orm = TxMessage.objects.filter(email__startswith="orm-").order_by("email")
    assert [row(m) for m in pg] == [row(m) for m in orm]
    assert pg[0].payload is not None and pg[1].payload is None
    assert bytes(pg[0].payload.raw).startswith(b"Subject: Your order pg")
    assert TxPayload.objects.count() == 2


def test_the_relays_shared_payload_and_subscribers_found_by_address() -> None:
    known = create_subscriber(email="ada@example.com")
    rows = [
        store.NewMessage(source=TxMessage.Source.RELAY, email=email, shared=True)
        for email in ("ada@example.com", "stranger@example.com")
    ]
    store.store(rows, shared_payload=b"Subject: hi\r\n\r\nbody", subscribers_by_email=True)
    stored = {m.email: m for m in TxMessage.objects.select_related("payload")}
    assert stored["ada@example.com"].subscriber_id == known.pk
    assert stored["stranger@example.com"].subscriber_id is None
    assert stored["ada@example.com"].payload_id == stored["stranger@example.com"].payload_id
    assert TxPayload.objects.count() == 1
    assert {str(m.public_id) for m in stored.values()} == {str(r.public_id) for r in rows}
    assert all(m.status == TxMessage.Status.QUEUED and m.attempts == 0 for m in stored.values())
