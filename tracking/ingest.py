"""Write queued opens and clicks to the database: events, engagement, rollups.

One drain at a time (a Redis lock): uniques are decided against what the
database holds, batch by batch. A batch is one transaction: its events,
each subscriber's engagement, the hour, link and domain rollups, and the
record of its token, so a batch taken over after a crash is skipped if it
was committed already. Then it is acknowledged in the queue.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber
from tracking import classify, queue
from tracking.models import (
    CampaignHour,
    DomainStats,
    Engagement,
    Event,
    IngestedBatch,
    Kind,
    Link,
    LinkClicker,
    LinkStats,
)
from transactional.models import TxMessage

# Rows per upsert statement (SQLite allows 32,766 parameters a statement).
UPSERT_ROWS = 500


@dataclass
class _Seen:
    """One subscriber's events of one campaign in a batch."""

    opens: int = 0
    clicks: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0
    opened: list[datetime] = field(default_factory=list)
    clicked: list[datetime] = field(default_factory=list)


def drain() -> int:
    """Ingest what is queued (and batches a killed drain left); how many events."""
    lock = queue.hold_lock()
    if lock is None:
        return 0
    done = 0
    # A drain gives way after half a lease, leaving the rest to the next one.
    budget = queue.lease_seconds() / 2
    size = int(settings.POSTINO["TRACKING_INGEST_BATCH"])
    try:
        for token, events in queue.stalled():
            done += ingest(token, events)
            queue.ack(token)
        started = time.monotonic()
        while time.monotonic() - started < budget and queue.renew_lock(lock):
            token, events = queue.claim(size)
            if not events:
                break
            done += ingest(token, events)
            queue.ack(token)
    finally:
        queue.release_lock(lock)
    return done


def forget_old() -> int:
    """Raw events past the retention (the rollups keep their figures), and the
    record of batches long past any takeover."""
    now = timezone.now()
    cutoff = now - timedelta(days=int(settings.POSTINO["TRACKING_RETENTION_DAYS"]))
    deleted, _ = Event.objects.filter(occurred_at__lt=cutoff).delete()
    IngestedBatch.objects.filter(created_at__lt=now - timedelta(days=1)).delete()
    return deleted


def ingest(token: str, raw: Sequence[dict[str, Any]]) -> int:
    """Write one claimed batch; 0 if it was written before."""
    with transaction.atomic():
        _, new = IngestedBatch.objects.get_or_create(token=token)
        if not new:
            return 0
        transactional = [e for e in raw if e.get("x")]
        if transactional:
            _transactional(transactional)
            raw = [e for e in raw if not e.get("x")]
        events = _classified(raw)
        if not events:
            return len(transactional)
        links = _links(events)
        Event.objects.bulk_create(
            [
                Event(
                    campaign_id=e["c"],
                    subscriber_id=e["s"],
                    kind=e["k"],
                    link_id=links.get((e["c"], e["h"])) if e["k"] == Kind.CLICK else None,
                    human=not e["why"],
                    reason=e["why"],
                    occurred_at=e["at"],
                )
                for e in events
            ],
            batch_size=1000,
        )
        first_opens, first_clicks = _engagement(events)
        _rollups(events, links, first_opens, first_clicks)
    return len(events) + len(transactional)


def _transactional(raw: Sequence[dict[str, Any]]) -> None:
    """Transactional messages' first human open and click, on the message
    itself: one row per message, so no rollup is needed to count them."""
    sent = dict(
        TxMessage.objects.filter(public_id__in={e["x"] for e in raw}).values_list(
            "public_id", "sent_at"
        )
    )
    first: dict[str, dict[str, datetime]] = {"opened_at": {}, "clicked_at": {}}
    for e in raw:
        public_id = uuid.UUID(e["x"])
        if public_id not in sent:
            continue  # deleted (retention), or never ours
        at = datetime.fromtimestamp(e["t"], tz=UTC)
        if _verdict(e, at, sent[public_id]):
            continue
        # A click is an open too, whether or not the pixel was shown.
        kinds = ("opened_at", "clicked_at") if e["k"] == Kind.CLICK else ("opened_at",)
        for field_name in kinds:
            seen = first[field_name]
            seen[e["x"]] = min(seen.get(e["x"], at), at)
    # Two statements per kind for the whole batch: the messages still
    # without one, then each its first.
    now = timezone.now()
    for field_name, moments in first.items():
        if not moments:
            continue
        unset = list(
            TxMessage.objects.filter(
                public_id__in=list(moments), **{f"{field_name}__isnull": True}
            ).only("pk", "public_id")
        )
        for message in unset:
            setattr(message, field_name, moments[message.public_id.hex])
            message.updated_at = now
        TxMessage.objects.bulk_update(unset, [field_name, "updated_at"])


def _classified(raw: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The batch's events of campaigns that still exist, with their verdicts."""
    campaigns = set(
        Campaign.objects.filter(pk__in={e["c"] for e in raw}).values_list("pk", flat=True)
    )
    events = [dict(e) for e in raw if e["c"] in campaigns]
    named = [e for e in events if e["s"]]
    sent = {
        (c, s): at
        for c, s, at in Delivery.objects.filter(
            campaign_id__in={e["c"] for e in named}, subscriber_id__in={e["s"] for e in named}
        ).values_list("campaign_id", "subscriber_id", "sent_at")
    }
    for e in events:
        e["at"] = datetime.fromtimestamp(e["t"], tz=UTC)
        e["h"] = hashlib.sha256(e.get("u", "").encode()).hexdigest()[:32]
        e["why"] = _verdict(e, e["at"], sent.get((e["c"], e["s"])))
    _every_link(events)
    return events


def _verdict(e: dict[str, Any], occurred_at: datetime, sent_at: datetime | None) -> str:
    """A queued event's verdict: empty for a person, else why a machine."""
    return classify.verdict(
        kind=e["k"],
        user_agent=e.get("a", ""),
        network=e.get("n", ""),
        method=e.get("m", "GET"),
        occurred_at=occurred_at,
        sent_at=sent_at,
    )


def _every_link(events: list[dict[str, Any]]) -> None:
    """A recipient's burst of clicks on several distinct links within seconds
    is a scanner fetching them all: every click of the burst is a machine's."""
    by_recipient: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e["k"] == Kind.CLICK and e["s"] and not e["why"]:
            by_recipient[(e["c"], e["s"])].append(e)
    window = timedelta(seconds=classify.EVERY_LINK_SECONDS)
    for clicks in by_recipient.values():
        clicks.sort(key=lambda e: e["at"])
        for index, first in enumerate(clicks):
            burst = [e for e in clicks[index:] if e["at"] - first["at"] <= window]
            if len({e["h"] for e in burst}) >= classify.EVERY_LINK_COUNT:
                for e in burst:
                    e["why"] = "every-link"


def _links(events: list[dict[str, Any]]) -> dict[tuple[int, str], int]:
    wanted = {(e["c"], e["h"]): e["u"] for e in events if e["k"] == Kind.CLICK}
    if not wanted:
        return {}
    Link.objects.bulk_create(
        [Link(campaign_id=c, url_hash=h, url=url) for (c, h), url in wanted.items()],
        ignore_conflicts=True,
    )
    rows = Link.objects.filter(
        campaign_id__in={c for c, _ in wanted}, url_hash__in={h for _, h in wanted}
    ).values_list("campaign_id", "url_hash", "pk")
    return {(c, h): pk for c, h, pk in rows}


def _engagement(
    events: list[dict[str, Any]],
) -> tuple[dict[tuple[int, int], datetime], dict[tuple[int, int], datetime]]:
    """Each named subscriber's engagement brought up to date; the first human
    open and the first human click this batch brought, by (campaign, subscriber)."""
    seen: dict[tuple[int, int], _Seen] = defaultdict(_Seen)
    for e in events:
        if not e["s"]:
            continue
        item = seen[(e["c"], e["s"])]
        if e["k"] == Kind.OPEN:
            if e["why"]:
                item.machine_opens += 1
            else:
                item.opens += 1
                item.opened.append(e["at"])
        elif e["why"]:
            item.machine_clicks += 1
        else:
            item.clicks += 1
            item.clicked.append(e["at"])
    if not seen:
        return {}, {}
    rows = []
    for key, item in seen.items():
        rows.append(
            (
                *key,
                item.opens,
                item.clicks,
                item.machine_opens,
                item.machine_clicks,
                _db_time(min(item.opened) if item.opened else None),
                _db_time(max(item.opened) if item.opened else None),
                _db_time(min(item.clicked) if item.clicked else None),
                _db_time(max(item.clicked) if item.clicked else None),
            )
        )
    later = "CASE WHEN t.{0} IS NULL OR excluded.{0} > t.{0} THEN excluded.{0} ELSE t.{0} END"
    stored = _upsert(
        Engagement,
        ["campaign_id", "subscriber_id"],
        [
            "opens",
            "clicks",
            "machine_opens",
            "machine_clicks",
            "first_opened_at",
            "last_opened_at",
            "first_clicked_at",
            "last_clicked_at",
        ],
        rows,
        updates={
            "first_opened_at": "COALESCE(t.first_opened_at, excluded.first_opened_at)",
            "first_clicked_at": "COALESCE(t.first_clicked_at, excluded.first_clicked_at)",
            "last_opened_at": later.format("last_opened_at"),
            "last_clicked_at": later.format("last_clicked_at"),
        },
        returning="campaign_id, subscriber_id, first_opened_at, first_clicked_at",
    )
    # The batch brought a first open (or click) where the stored first is the
    # batch's own earliest: the row had none before (the one drain at a time
    # makes that safe to read back).
    first_opens: dict[tuple[int, int], datetime] = {}
    first_clicks: dict[tuple[int, int], datetime] = {}
    for campaign_id, subscriber_id, first_opened, first_clicked in stored:
        item = seen[(campaign_id, subscriber_id)]
        if item.opened and _as_utc(first_opened) == min(item.opened):
            first_opens[(campaign_id, subscriber_id)] = min(item.opened)
        if item.clicked and _as_utc(first_clicked) == min(item.clicked):
            first_clicks[(campaign_id, subscriber_id)] = min(item.clicked)

    return first_opens, first_clicks


def _rollups(
    events: list[dict[str, Any]],
    links: dict[tuple[int, str], int],
    first_opens: dict[tuple[int, int], datetime],
    first_clicks: dict[tuple[int, int], datetime],
) -> None:
    hours: dict[tuple[int, datetime], list[int]] = defaultdict(lambda: [0] * 6)
    link_counts: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0])
    clickers: set[tuple[int, int]] = set()
    for e in events:
        hour = hours[(e["c"], _hour(e["at"]))]
        if e["k"] == Kind.OPEN:
            hour[2 if e["why"] else 0] += 1
        else:
            hour[5 if e["why"] else 3] += 1
            link_id = links[(e["c"], e["h"])]
            link_counts[link_id][2 if e["why"] else 0] += 1
            if e["s"] and not e["why"]:
                clickers.add((link_id, e["s"]))
    for (c, _s), at in first_opens.items():
        hours[(c, _hour(at))][1] += 1
    for (c, _s), at in first_clicks.items():
        hours[(c, _hour(at))][4] += 1
    for link_id, _subscriber_id in _new_clickers(clickers):
        link_counts[link_id][1] += 1
    _upsert(
        CampaignHour,
        ["campaign_id", "hour"],
        ["opens", "unique_opens", "machine_opens", "clicks", "unique_clicks", "machine_clicks"],
        [(c, _db_time(hour), *counts) for (c, hour), counts in hours.items()],
    )
    campaign_of = {link_id: c for (c, _h), link_id in links.items()}
    _upsert(
        LinkStats,
        ["link_id"],
        ["campaign_id", "clicks", "unique_clicks", "machine_clicks"],
        [(link_id, campaign_of[link_id], *counts) for link_id, counts in link_counts.items()],
        updates={"campaign_id": "t.campaign_id"},
    )
    _domains(first_opens, first_clicks)


def _new_clickers(clickers: set[tuple[int, int]]) -> list[tuple[int, int]]:
    """Of these (link, subscriber) pairs, the ones not seen before (now recorded)."""
    if not clickers:
        return []
    table = _table(LinkClicker)
    placeholders = ", ".join(["(%s, %s)"] * len(clickers))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (link_id, subscriber_id) VALUES {placeholders} "  # noqa: S608
            "ON CONFLICT (link_id, subscriber_id) DO NOTHING RETURNING link_id, subscriber_id",
            [value for pair in sorted(clickers) for value in pair],
        )
        return [(row[0], row[1]) for row in cursor.fetchall()]


def _domains(
    first_opens: dict[tuple[int, int], datetime], first_clicks: dict[tuple[int, int], datetime]
) -> None:
    people = {s for _, s in first_opens} | {s for _, s in first_clicks}
    if not people:
        return
    domain_of = {
        pk: email.rpartition("@")[2].lower()[:255]
        for pk, email in Subscriber.objects.filter(pk__in=people).values_list("pk", "email")
    }
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0])
    for index, firsts in enumerate((first_opens, first_clicks)):
        for c, s in firsts:
            if s in domain_of:
                counts[(c, domain_of[s])][index] += 1
    _upsert(
        DomainStats,
        ["campaign_id", "domain"],
        ["unique_opens", "unique_clicks"],
        [(c, domain, *pair) for (c, domain), pair in counts.items()],
    )


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _as_utc(value: datetime | str | None) -> datetime | None:
    """A time read back by raw SQL, as an aware UTC datetime: PostgreSQL gives
    aware ones, SQLite naive ones in UTC (or text)."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _hour(moment: datetime) -> datetime:
    """The start of the UTC hour ``moment`` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _db_time(moment: datetime | None) -> Any:
    return connection.ops.adapt_datetimefield_value(moment) if moment else None


def _upsert(
    model: type[Model],
    keys: list[str],
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    *,
    updates: dict[str, str] | None = None,
    returning: str = "",
) -> list[tuple[Any, ...]]:
    """Insert the rows, or add their columns to the row already there (or, for
    a column in ``updates``, set it to that expression over ``t`` and ``excluded``);
    with ``returning``, those columns of every row written."""
    rows = list(rows)
    if not rows:
        return []
    written: list[tuple[Any, ...]] = []
    table = _table(model)
    names = [*keys, *columns]
    sets = ", ".join(
        f"{column} = {(updates or {}).get(column, f't.{column} + excluded.{column}')}"
        for column in columns
    )
    row_sql = f"({', '.join(['%s'] * len(names))})"
    with connection.cursor() as cursor:
        # Many rows a statement: one round trip and one plan, not one per row.
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} AS t ({', '.join(names)}) "  # noqa: S608
                f"VALUES {', '.join([row_sql] * len(chunk))} "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {sets}"
                + (f" RETURNING {returning}" if returning else ""),
                [value for row in chunk for value in row],
            )
            if returning:
                written.extend(tuple(row) for row in cursor.fetchall())
    return written
