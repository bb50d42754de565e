"""The last hour's errors grouped by SMTP reply code, and the recent events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Campaign
from delivery import ops
from delivery.models import Delivery
from delivery.pipeline.breaker import record_event
from tests.ops.conftest import Ledger, make_campaign


def test_failed_and_deferred_rows_are_grouped_by_code_with_a_sample_reply(
    ledger: Ledger,
) -> None:
    campaign = make_campaign()
    soon = timezone.now() + timedelta(minutes=5)
    ledger.add(campaign, 4, status="failed", code=550, reply="550 5.1.1 User unknown")
    ledger.add(campaign, 1, status="failed", code=421, reply="421 4.7.0 Try again later")
    ledger.add(campaign, 2, next_attempt_at=soon, code=421, reply="421 4.7.0 Try again later")
    ledger.add(campaign, 1, status="failed", reply="gave up after 5 attempts: timed out")
    ledger.add(campaign, 9)  # pending, never tried: not an error
    ledger.add(campaign, 3, status="sent", code=250, sent_at=timezone.now())

    groups = ops.recent_errors()

    assert [(g.code, g.count, g.failed, g.deferred) for g in groups] == [
        (550, 4, 4, 0),
        (421, 3, 1, 2),
        (None, 1, 1, 0),
    ]
    assert groups[0].sample_reply == "550 5.1.1 User unknown"
    assert groups[1].sample_reply == "421 4.7.0 Try again later"


def test_errors_older_than_the_window_are_left_out(ledger: Ledger) -> None:
    campaign = make_campaign()
    rows = ledger.add(campaign, 2, status="failed", code=550, reply="550 no such user")
    Delivery.objects.filter(pk=rows[0].pk).update(updated_at=timezone.now() - timedelta(hours=2))

    (group,) = ops.recent_errors(hours=1)

    assert group.count == 1


def test_a_campaign_finished_within_the_hour_still_shows_its_errors(ledger: Ledger) -> None:
    campaign = make_campaign(status=Campaign.Status.FINISHED)
    ledger.add(campaign, 2, status="failed", code=554, reply="554 rejected")

    assert [(g.code, g.count) for g in ops.recent_errors()] == [(554, 2)]


def test_grouping_costs_two_queries_however_many_codes(
    ledger: Ledger, django_assert_num_queries: Any
) -> None:
    campaign = make_campaign()
    for code in (421, 450, 451, 550, 552, 554):
        ledger.add(campaign, 1, status="failed", code=code, reply=f"{code} no")
    with django_assert_num_queries(2):
        assert len(ops.recent_errors()) == 6


def test_recent_events_are_listed_newest_first(db: None) -> None:
    record_event("connection", "server Relay: connection refused")
    record_event("quota", "server Relay: quota spent for 1800s")

    events = ops.recent_events()

    assert [(e.kind, e.message) for e in events] == [
        ("quota", "server Relay: quota spent for 1800s"),
        ("connection", "server Relay: connection refused"),
    ]
    assert events[0].at is not None


def test_an_event_in_an_unknown_format_is_shown_as_it_is(ops_redis: Any) -> None:
    ops_redis.lpush("postino:events", "something odd")

    (event,) = ops.recent_events()

    assert (event.at, event.kind, event.message) == (None, "", "something odd")
