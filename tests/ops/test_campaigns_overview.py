"""Running campaigns: counts, rate over the last minute, ETA and retry backlog."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from delivery import ops
from delivery.models import Delivery
from tests.ops.conftest import Ledger, make_campaign


def test_rate_is_messages_of_the_last_minute_over_the_time_since_the_first(
    ledger: Ledger,
) -> None:
    campaign = make_campaign()
    now = timezone.now()
    ledger.add(campaign, 30, status=Delivery.Status.SENT, sent_at=now - timedelta(seconds=20))
    ledger.add(campaign, 50, status=Delivery.Status.SENT, sent_at=now - timedelta(minutes=5))
    ledger.add(campaign, 120)

    (row,) = ops.running_campaigns_overview(now=now)

    assert (row.id, row.total, row.sent, row.failed, row.pending) == (campaign.pk, 200, 80, 0, 120)
    assert row.sent_last_minute == 30
    assert row.rate == pytest.approx(1.5)  # 30 in the 20 s since, the older 50 left out
    assert row.eta_seconds == pytest.approx(80)  # 120 pending at 1.5 per second
    assert row.percent == 40


def test_deferred_rows_waiting_for_their_retry_time_are_the_retry_backlog(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now()
    ledger.add(campaign, 7, next_attempt_at=now + timedelta(minutes=3), code=421)
    ledger.add(campaign, 2, next_attempt_at=now - timedelta(minutes=1), code=421)  # due again
    ledger.add(campaign, 5)

    (row,) = ops.running_campaigns_overview(now=now)

    assert row.retry_backlog == 7
    assert row.pending == 14


def test_nothing_moving_has_no_eta_and_a_paused_campaign_none_either(ledger: Ledger) -> None:
    stalled = make_campaign("Stalled")
    paused = make_campaign("Paused", status=Campaign.Status.PAUSED)
    now = timezone.now()
    ledger.add(stalled, 3)
    ledger.add(paused, 3)
    ledger.add(paused, 3, status=Delivery.Status.SENT, sent_at=now - timedelta(seconds=5))

    rows = {row.name: row for row in ops.running_campaigns_overview(now=now)}

    assert rows["Stalled"].eta_seconds is None
    assert rows["Paused"].status == "paused"
    assert rows["Paused"].eta_seconds is None


def test_only_running_and_paused_campaigns_are_listed(ledger: Ledger) -> None:
    make_campaign("Live")
    for status in ("draft", "scheduled", "finished", "cancelled"):
        make_campaign(status.title(), status=status)

    assert [row.name for row in ops.running_campaigns_overview()] == ["Live"]


def test_the_overview_costs_four_queries_however_many_campaigns(
    ledger: Ledger, django_assert_num_queries: object
) -> None:
    now = timezone.now()
    for i in range(5):
        campaign = make_campaign(f"C{i}")
        ledger.add(campaign, 2, status=Delivery.Status.SENT, sent_at=now)
    with django_assert_num_queries(4):  # type: ignore[operator]
        assert len(ops.running_campaigns_overview(now=now)) == 5


def test_scheduled_campaigns_are_listed_soonest_first_with_their_start(db: None) -> None:
    now = timezone.now()
    make_campaign("Later", status=Campaign.Status.SCHEDULED, scheduled_at=now + timedelta(days=2))
    make_campaign("Soon", status=Campaign.Status.SCHEDULED, scheduled_at=now + timedelta(minutes=5))
    make_campaign(
        "Overdue", status=Campaign.Status.SCHEDULED, scheduled_at=now - timedelta(seconds=9)
    )
    make_campaign("Draft", status=Campaign.Status.DRAFT, scheduled_at=now)

    rows = ops.scheduled_campaigns(now=now)

    assert [(row.name, row.starts_in) for row in rows] == [
        ("Overdue", 0.0),
        ("Soon", 300.0),
        ("Later", 172_800.0),
    ]


def test_the_live_fragment_says_when_scheduled_campaigns_start(teammate_client: Any) -> None:
    # Three hours and half a minute ahead: "3 h" however long the request takes.
    starts = timezone.now() + timedelta(hours=3, seconds=30)
    make_campaign("Autumn", status=Campaign.Status.SCHEDULED, scheduled_at=starts)

    html = teammate_client.get("/operations/live/").content.decode()

    assert 'data-testid="ops-scheduled"' in html
    assert "Autumn" in html
    assert '<td class="num" data-col="starts-in">3 h</td>' in html


def test_a_scheduled_campaign_shows_its_start_in_the_zone_it_was_chosen_in(
    teammate_client: Any,
) -> None:
    starts = datetime(2031, 3, 1, 8, 0, tzinfo=UTC)
    make_campaign(
        "Spring",
        status=Campaign.Status.SCHEDULED,
        scheduled_at=starts,
        schedule_timezone="Europe/Berlin",
    )

    html = teammate_client.get("/operations/live/").content.decode()

    assert ">2031-03-01 09:00 Europe/Berlin (08:00 UTC)</time>" in html
