"""Recipient domains: sent in the last minute against the limit, and throttling."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from delivery import ops
from delivery.models import Delivery, DomainLimit
from tests.ops.conftest import Ledger, make_campaign


def test_messages_sent_to_each_limited_domain_in_the_last_minute(
    ledger: Ledger, no_domain_limits: None
) -> None:
    DomainLimit.objects.create(domain="gmail.com", messages_per_minute=600)
    DomainLimit.objects.create(domain="yahoo.com", messages_per_minute=100)
    campaign = make_campaign()
    now = timezone.now()
    sent, recently = Delivery.Status.SENT, now - timedelta(seconds=30)
    ledger.add(campaign, 9, domain="gmail.com", status=sent, sent_at=recently)
    ledger.add(campaign, 4, domain="yahoo.com", status=sent, sent_at=recently)
    ledger.add(campaign, 6, domain="notgmail.com", status=sent, sent_at=recently)  # not @gmail.com
    ledger.add(campaign, 5, domain="example.org", status=sent, sent_at=recently)  # no limit
    ledger.add(campaign, 8, domain="gmail.com", status="sent", sent_at=now - timedelta(minutes=2))
    ledger.add(campaign, 3, domain="gmail.com")  # pending

    rows = {row.domain: row for row in ops.domains_overview(now=now)}

    assert set(rows) == {"gmail.com", "yahoo.com"}
    assert (rows["gmail.com"].sent_last_minute, rows["gmail.com"].messages_per_minute) == (9, 600)
    assert rows["yahoo.com"].sent_last_minute == 4
    assert rows["yahoo.com"].percent_of_limit == 4


def test_a_domain_whose_limiter_time_is_in_the_future_is_throttled(
    no_domain_limits: None, ops_redis: Any
) -> None:
    DomainLimit.objects.create(domain="gmail.com", messages_per_minute=60)
    DomainLimit.objects.create(domain="yahoo.com", messages_per_minute=60)
    seconds, micros = ops_redis.time()
    now_ms = seconds * 1000 + micros / 1000
    ops_redis.set("postino:rate:domain:gmail.com", now_ms + 4000)
    ops_redis.set("postino:rate:domain:yahoo.com", now_ms - 4000)

    rows = {row.domain: row for row in ops.domains_overview()}

    assert rows["gmail.com"].throttled is True
    assert 3 < rows["gmail.com"].throttled_for <= 4
    assert rows["yahoo.com"].throttled is False


def test_the_overview_costs_two_queries_however_many_domains(
    ledger: Ledger, no_domain_limits: None, django_assert_num_queries: Any
) -> None:
    campaign = make_campaign()
    for i in range(5):
        DomainLimit.objects.create(domain=f"d{i}.example", messages_per_minute=10)
        ledger.add(campaign, 1, domain=f"d{i}.example", status="sent", sent_at=timezone.now())
    with django_assert_num_queries(2):
        rows = ops.domains_overview()
    assert [row.sent_last_minute for row in rows] == [1, 1, 1, 1, 1]
