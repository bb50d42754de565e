"""Complaint and hard-bounce rates over 24 hours and 7 days, against Gmail's
and Yahoo's thresholds (0.1 % warning, 0.3 % critical)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery import compliance
from delivery.models import Delivery
from tests.ops.conftest import Ledger, make_campaign


def report(kind: str, *, at: datetime, count: int = 1, **fields: Any) -> None:
    """``count`` reports of ``kind`` received at ``at`` (received_at is auto_now_add)."""
    events = BounceEvent.objects.bulk_create(
        [
            BounceEvent(kind=kind, source=fields.pop("source", "webhook"), **fields)
            for _ in range(count)
        ]
    )
    BounceEvent.objects.filter(pk__in=[event.pk for event in events]).update(received_at=at)


def sent(ledger: Ledger, campaign: Campaign, count: int, *, at: datetime) -> list[Delivery]:
    return ledger.add(campaign, count, status=Delivery.Status.SENT, sent_at=at)


def rates_by_window() -> dict[str, compliance.WindowRates]:
    return {window.label: window for window in compliance.sending_rates()}


def test_reports_received_in_each_window_over_messages_sent_in_it(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now()
    sent(ledger, campaign, 2000, at=now - timedelta(hours=2))
    sent(ledger, campaign, 3000, at=now - timedelta(days=3))
    sent(ledger, campaign, 700, at=now - timedelta(days=9))  # outside both windows
    ledger.add(campaign, 40)  # pending: not sent
    report("complaint", at=now - timedelta(hours=1), count=2)
    report("complaint", at=now - timedelta(days=2), count=4)
    report("complaint", at=now - timedelta(days=8), count=9)  # too old
    report("hard", at=now - timedelta(hours=3), count=10)
    report("hard", at=now - timedelta(days=4), count=5)
    report("soft", at=now - timedelta(hours=3), count=7)
    report("autoreply", at=now - timedelta(hours=3), count=50)  # not a bounce

    rates = rates_by_window()

    day, week = rates["24 hours"].summary, rates["7 days"].summary
    assert (day.sent, day.complaints, day.hard, day.soft) == (2000, 2, 10, 7)
    assert (week.sent, week.complaints, week.hard, week.soft) == (5000, 6, 15, 7)
    assert day.complaint_rate == 0.001 and day.complaint_percent == "0.1%"
    assert week.complaint_rate == 0.0012 and week.complaint_percent == "0.12%"
    assert day.hard_rate == 0.005 and week.hard_rate == 0.003


def test_a_hard_bounce_refused_while_sending_is_an_attempt_that_was_never_sent(
    ledger: Ledger,
) -> None:
    # The campaign page's definition: hard bounces over sent + refused.
    campaign = make_campaign()
    now = timezone.now()
    sent(ledger, campaign, 999, at=now - timedelta(hours=1))
    (refused,) = ledger.add(campaign, 1, status=Delivery.Status.FAILED, code=550)
    report("hard", at=now - timedelta(minutes=5), source="smtp", delivery=refused)

    day = rates_by_window()["24 hours"].summary

    assert (day.sent, day.refused, day.attempted, day.hard) == (999, 1, 1000, 1)
    assert day.hard_rate == 0.001


def test_below_a_tenth_of_a_percent_is_ok(ledger: Ledger) -> None:
    sent(ledger, make_campaign(), 1001, at=timezone.now() - timedelta(hours=1))
    report("complaint", at=timezone.now())

    day = rates_by_window()["24 hours"]

    assert day.summary.complaint_rate < 0.001
    assert day.complaint_level == "ok"


def test_reaching_a_tenth_of_a_percent_is_a_warning(ledger: Ledger) -> None:
    sent(ledger, make_campaign(), 1000, at=timezone.now() - timedelta(hours=1))
    report("complaint", at=timezone.now())

    assert rates_by_window()["24 hours"].complaint_level == "warning"


def test_reaching_three_tenths_of_a_percent_is_critical(ledger: Ledger) -> None:
    sent(ledger, make_campaign(), 1000, at=timezone.now() - timedelta(hours=1))
    report("complaint", at=timezone.now(), count=2)
    assert rates_by_window()["24 hours"].complaint_level == "warning"  # 0.2 %

    report("complaint", at=timezone.now())  # 0.3 %

    assert rates_by_window()["24 hours"].complaint_level == "critical"


def test_last_weeks_complaints_keep_the_panel_warning_after_a_quiet_day(
    ledger: Ledger,
) -> None:
    campaign = make_campaign()
    now = timezone.now()
    sent(ledger, campaign, 1000, at=now - timedelta(hours=1))
    sent(ledger, campaign, 1000, at=now - timedelta(days=3))
    report("complaint", at=now - timedelta(days=3), count=5)  # 0.25 % of the week

    panel = compliance.compliance()

    assert [window.complaint_level for window in panel.rates] == ["ok", "warning"]
    assert panel.complaint_level == "warning"


def test_the_sent_counts_are_cached_a_minute_but_new_complaints_count_at_once(
    ledger: Ledger, django_assert_num_queries: Any
) -> None:
    campaign = make_campaign()
    now = timezone.now()
    sent(ledger, campaign, 1000, at=now - timedelta(hours=1))
    with django_assert_num_queries(2):  # the week of sends, then the reports
        assert rates_by_window()["24 hours"].summary.sent == 1000

    sent(ledger, campaign, 1000, at=timezone.now())
    report("complaint", at=timezone.now())
    with django_assert_num_queries(1):  # the reports only
        day = rates_by_window()["24 hours"].summary

    assert (day.sent, day.complaints) == (1000, 1)  # the denominator is up to a minute old
