"""Writing accepted messages: their payloads and ledger rows, in one statement.

An accepted send is the hot path of the API and the relay: an application
waits for its answer, hundreds of times a second. The ORM's two bulk
inserts (payloads, then messages pointing at them) cost two round trips and
most of a millisecond of query compiling each. On PostgreSQL the payloads
are inserted by data-modifying CTEs and the messages take their ids in the
same statement; a single statement is atomic by itself, so a send without
an idempotency key needs no transaction around it (no BEGIN, no COMMIT).
Other databases (SQLite for ``make run``) take the ORM's path inside a
transaction. Both write the same rows (tests/transactional/test_store.py).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from postino.prepared import prepared_cursor
from subscribers.models import Subscriber
from transactional.models import TxMessage, TxPayload


@dataclass
class NewMessage:
    """One recipient's ledger row, as accepted. ``raw``: its own payload;
    ``None`` with ``shared`` False: refused, nothing to send."""

    source: str
    email: str
    status: str = TxMessage.Status.QUEUED
    subscriber_id: int | None = None
    template_id: int | None = None
    category_id: int | None = None
    credential_id: int | None = None
    channel_id: int | None = None
    from_email: str = ""
    subject: str = ""
    message_id: str = ""
    smtp_reply: str = ""
    raw: bytes | None = None
    # True: the row points at the payload given to ``store`` (the relay's one
    # message for all its recipients).
    shared: bool = False
    public_id: uuid.UUID = field(default_factory=uuid.uuid4)


# The columns ``store`` writes; every other one of TxMessage is nullable and
# starts empty. A NOT NULL column added without a database default fails
# the store's tests, not a send.
_COLUMNS = (
    "public_id", "status", "source", "email", "subscriber_id", "template_id", "category_id",
    "credential_id", "channel_id", "from_email", "subject", "message_id", "smtp_reply",
    "attempts", "provider_message_id", "next_attempt_at", "created_at", "updated_at",
    "payload_id",
)  # fmt: skip


@functools.cache
def _column_list() -> str:
    """``_COLUMNS`` quoted for the INSERT, once per process, not on every send."""
    return ", ".join(connection.ops.quote_name(column) for column in _COLUMNS)


def store(
    messages: Sequence[NewMessage],
    *,
    shared_payload: bytes | None = None,
    subscribers_by_email: bool = False,
) -> None:
    """Insert ``messages`` and their payloads.

    ``subscribers_by_email``: rows without a ``subscriber_id`` take the id of
    the subscriber with their address, if any (the relay knows addresses only).
    """
    if not messages:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        _store_postgresql(messages, shared_payload, subscribers_by_email, now)
        return
    with transaction.atomic():
        _store_orm(messages, shared_payload, subscribers_by_email, now)


def _store_postgresql(
    messages: Sequence[NewMessage],
    shared_payload: bytes | None,
    subscribers_by_email: bool,
    now: datetime,
) -> None:
    quote = connection.ops.quote_name
    payloads_table = quote(TxPayload._meta.db_table)
    ctes: list[str] = []
    params: list[Any] = []

    def payload_cte(raw: bytes) -> str:
        name = f"p{len(ctes)}"
        ctes.append(
            f"{name} AS (INSERT INTO {payloads_table} (raw, created_at)"  # noqa: S608
            " VALUES (%s, %s) RETURNING id)"
        )
        params.extend([raw, now])
        return f"(SELECT id FROM {name})"  # noqa: S608

    shared = payload_cte(shared_payload) if shared_payload is not None else "NULL"
    subscriber_sql = "%s"
    if subscribers_by_email:
        subscribers_table = quote(Subscriber._meta.db_table)
        subscriber_sql = (
            f"COALESCE(%s, (SELECT s.id FROM {subscribers_table} s WHERE s.email = %s))"  # noqa: S608
        )
    rows: list[str] = []
    values: list[Any] = []
    for message in messages:
        if message.raw is not None:
            payload = payload_cte(message.raw)
        else:
            payload = shared if message.shared else "NULL"
        rows.append(
            f"(%s, %s, %s, %s, {subscriber_sql}, %s, %s, %s, %s, %s, %s, %s, %s,"
            f" 0, '', %s, %s, %s, {payload})"
        )
        values.extend([message.public_id, message.status, message.source, message.email])
        values.append(message.subscriber_id)
        if subscribers_by_email:
            values.append(message.email)
        values.extend(
            [
                message.template_id, message.category_id, message.credential_id,
                message.channel_id, message.from_email, message.subject,
                message.message_id, message.smtp_reply, now, now, now,
            ]
        )  # fmt: skip
    columns = _column_list()
    with_clause = f"WITH {', '.join(ctes)} " if ctes else ""
    # Our table and column names; every value is a parameter.
    sql = (
        f"{with_clause}INSERT INTO {quote(TxMessage._meta.db_table)} ({columns}) "  # noqa: S608
        f"VALUES {', '.join(rows)}"
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params + values)


def _store_orm(
    messages: Sequence[NewMessage],
    shared_payload: bytes | None,
    subscribers_by_email: bool,
    now: datetime,
) -> None:
    shared = TxPayload.objects.create(raw=shared_payload) if shared_payload is not None else None
    own = TxPayload.objects.bulk_create(
        [TxPayload(raw=message.raw) for message in messages if message.raw is not None]
    )
    own_payloads = iter(own)
    by_email: dict[str, int] = {}
    if subscribers_by_email:
        wanted = {m.email for m in messages if m.subscriber_id is None}
        by_email = dict(Subscriber.objects.filter(email__in=wanted).values_list("email", "pk"))
    rows = []
    for message in messages:
        payload = next(own_payloads) if message.raw is not None else None
        if payload is None and message.shared:
            payload = shared
        rows.append(
            TxMessage(
                public_id=message.public_id,
                status=message.status,
                source=message.source,
                email=message.email,
                subscriber_id=message.subscriber_id or by_email.get(message.email),
                template_id=message.template_id,
                category_id=message.category_id,
                credential_id=message.credential_id,
                channel_id=message.channel_id,
                payload=payload,
                from_email=message.from_email,
                subject=message.subject,
                message_id=message.message_id,
                smtp_reply=message.smtp_reply,
                next_attempt_at=now,
            )
        )
    TxMessage.objects.bulk_create(rows)
