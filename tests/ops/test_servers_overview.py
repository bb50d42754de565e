"""SMTP servers: limits against the live quota windows, health, connections, rate."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from delivery import ops
from delivery.models import Delivery
from delivery.pipeline import breaker
from tests.ops.conftest import Ledger, make_campaign, make_server


def test_a_server_marked_down_shows_its_reason_and_the_seconds_left(db: None) -> None:
    server = make_server()
    breaker.mark_server_down(server.pk, "connection refused by smtp.example.com:587")

    (row,) = ops.servers_overview()

    assert row.state == "down"
    assert row.down_reason == "connection refused by smtp.example.com:587"
    assert 25 < row.down_seconds <= 30


def test_a_server_out_of_quota_is_exhausted_not_down(db: None) -> None:
    server = make_server()
    breaker.mark_server_exhausted(server.pk, 90_000)

    (row,) = ops.servers_overview()

    assert row.state == "exhausted"
    assert 85 < row.down_seconds <= 90


def test_quota_counters_are_shown_against_the_limits(db: None, ops_redis: Any) -> None:
    server = make_server(messages_per_hour=1000, messages_per_day=5000)
    now = datetime.now(UTC)
    ops_redis.set(f"postino:quota:{server.pk}:h:{now:%Y%m%d%H}", 640)
    ops_redis.set(f"postino:quota:{server.pk}:d:{now:%Y%m%d}", 4100)
    ops_redis.set(f"postino:quota:{server.pk}:h:{now - timedelta(hours=1):%Y%m%d%H}", 999)

    (row,) = ops.servers_overview(now=now)

    assert (row.hour_used, row.per_hour) == (640, 1000)
    assert (row.day_used, row.effective_per_day) == (4100, 5000)
    assert row.state == "ok"


def test_the_daily_limit_follows_the_warm_up_ramp(db: None) -> None:
    today = datetime.now(UTC).date()
    make_server(
        messages_per_day=100_000,
        warmup_start_per_day=1000,
        warmup_growth_factor=2.0,
        warmup_started_on=today - timedelta(days=3),
    )

    (row,) = ops.servers_overview()

    assert row.per_day == 100_000
    assert row.effective_per_day == 8000
    assert row.warming_up is True


def test_a_finished_warm_up_is_not_warming_up(db: None) -> None:
    make_server(
        messages_per_day=5000,
        warmup_start_per_day=1000,
        warmup_started_on=date(2020, 1, 1),
    )

    (row,) = ops.servers_overview()

    assert row.effective_per_day == 5000
    assert row.warming_up is False


def test_connections_in_use_count_only_unexpired_slots(db: None, ops_redis: Any) -> None:
    server = make_server(max_connections=4)
    now_ms = time.time() * 1000
    ops_redis.zadd(
        f"postino:connections:{server.pk}",
        {"w1:a": now_ms + 60_000, "w2:b": now_ms + 60_000, "dead:c": now_ms - 1000},
    )

    (row,) = ops.servers_overview()

    assert (row.connections_in_use, row.max_connections) == (2, 4)


def test_a_server_whose_limiter_is_ahead_of_now_is_pacing(db: None, ops_redis: Any) -> None:
    server = make_server()
    seconds, micros = ops_redis.time()
    ops_redis.set(f"postino:rate:smtp:{server.pk}", seconds * 1000 + micros / 1000 + 500)

    (row,) = ops.servers_overview()

    assert row.state == "pacing"


def test_messages_sent_in_the_last_minute_are_counted_per_server(ledger: Ledger) -> None:
    fast, slow = make_server("Fast"), make_server("Slow")
    campaign = make_campaign()
    now = timezone.now()
    sent = Delivery.Status.SENT
    ledger.add(campaign, 12, status=sent, server=fast, sent_at=now - timedelta(seconds=10))
    ledger.add(campaign, 3, status=sent, server=slow, sent_at=now - timedelta(seconds=50))
    ledger.add(campaign, 40, status=sent, server=slow, sent_at=now - timedelta(minutes=3))

    rows = {row.name: row for row in ops.servers_overview(now=now)}

    assert rows["Fast"].sent_last_minute == 12
    assert rows["Fast"].rate == pytest.approx(12 / 10)  # all in the last 10 s, then quiet
    assert rows["Slow"].sent_last_minute == 3


def test_the_overview_costs_two_queries_however_many_servers(
    db: None, django_assert_num_queries: Any
) -> None:
    for i in range(5):
        make_server(f"S{i}", messages_per_hour=100)
    with django_assert_num_queries(2):
        assert len(ops.servers_overview()) == 5
