"""The sending rate is right from the first seconds of a send, steady during
it, and falls away once it stops (the operations page and /metrics both read
``ops.snapshot``; see test_metrics and test_page for the same figures there)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from delivery import ops
from delivery.models import Delivery
from tests.ops.conftest import Ledger, make_campaign


def send_steadily(
    ledger: Ledger,
    campaign: Campaign,
    *,
    per_second: int,
    since: float,
    until: float,
    now: datetime,
) -> None:
    """Ledger rows as a send at ``per_second`` writes them, from ``since`` to
    ``until`` seconds ago (the newest second not yet flushed)."""
    for step in range(int((since - until) * per_second)):
        ago = since - step / per_second
        ledger.add(campaign, 1, status=Delivery.Status.SENT, sent_at=now - timedelta(seconds=ago))


def test_a_send_that_began_nine_seconds_ago_reads_its_real_rate(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now()
    # 20 per second since 9 s ago; the last second's outcomes are not flushed yet.
    send_steadily(ledger, campaign, per_second=20, since=9, until=1, now=now)

    (row,) = ops.running_campaigns_overview(now=now)
    snap_rate = ops.recent_sends(now=now).rate(now)

    assert row.rate == pytest.approx(20, rel=0.05)  # not 160 / 60 = 2.7
    assert snap_rate == pytest.approx(row.rate)


def test_a_long_steady_send_reads_the_same_rate(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now()
    send_steadily(ledger, campaign, per_second=5, since=120, until=0.5, now=now)

    (row,) = ops.running_campaigns_overview(now=now)

    assert row.rate == pytest.approx(5, rel=0.05)


def test_a_stopped_send_falls_away_instead_of_holding_its_last_rate(ledger: Ledger) -> None:
    campaign = make_campaign(status=Campaign.Status.PAUSED)
    now = timezone.now()
    # Sent at 10 per second from 40 s ago until 20 s ago, then paused.
    send_steadily(ledger, campaign, per_second=10, since=40, until=20, now=now)

    (row,) = ops.running_campaigns_overview(now=now)

    assert row.rate == pytest.approx(200 / 40, rel=0.05)
    later = now + timedelta(seconds=15)
    (row,) = ops.running_campaigns_overview(now=later)
    assert row.rate < 200 / 40


@pytest.mark.django_db
def test_nothing_sent_is_a_rate_of_zero() -> None:
    assert ops.recent_sends().rate(timezone.now()) == 0.0


def test_the_total_rate_of_the_snapshot_agrees_with_its_campaigns(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now()
    send_steadily(ledger, campaign, per_second=20, since=9, until=1, now=now)

    snap = ops.snapshot(throughput_minutes=0)
    (row,) = snap.campaigns

    assert snap.sending_rate == pytest.approx(row.rate, rel=0.01)
    assert snap.sending_rate == pytest.approx(20, rel=0.1)
