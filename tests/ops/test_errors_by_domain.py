"""Errors by recipient domain: the last hour's failed and deferred messages,
grouped by the part of the address after the @."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from delivery import ops
from delivery.models import Delivery
from tests.ops.conftest import Ledger, make_campaign


def test_failed_and_deferred_messages_of_the_last_hour_by_domain(ledger: Ledger) -> None:
    campaign = make_campaign()
    failed = Delivery.Status.FAILED
    ledger.add(campaign, 3, status=failed, code=550, domain="gmail.com")
    ledger.add(campaign, 2, code=421, domain="gmail.com")  # deferred: pending with a code
    ledger.add(campaign, 1, code=451, domain="yahoo.com")
    ledger.add(campaign, 4, domain="yahoo.com")  # pending, never tried: no error
    ledger.add(campaign, 5, status=Delivery.Status.SENT, code=250, domain="yahoo.com")
    old = ledger.add(campaign, 6, status=failed, code=550, domain="outlook.com")
    Delivery.objects.filter(pk__in=[row.pk for row in old]).update(
        updated_at=timezone.now() - timedelta(hours=2)
    )

    rows = ops.recent_error_domains()

    assert [(r.domain, r.count, r.failed, r.deferred) for r in rows] == [
        ("gmail.com", 5, 3, 2),
        ("yahoo.com", 1, 0, 1),
    ]


def test_one_query_and_at_most_twenty_rows_however_many_domains(
    ledger: Ledger, django_assert_num_queries: Any
) -> None:
    campaign = make_campaign()
    for i in range(25):
        ledger.add(
            campaign, 1 + i % 3, status=Delivery.Status.FAILED, code=550, domain=f"d{i}.example"
        )

    with django_assert_num_queries(1):
        rows = ops.recent_error_domains()

    assert len(rows) == ops.MAX_ERROR_DOMAINS == 20
    assert [row.count for row in rows[:3]] == [3, 3, 3]
