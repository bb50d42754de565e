"""Real workers: killed mid-send, paused, resumed, cancelled."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from campaigns.models import Campaign
from campaigns.services import cancel_campaign, pause_campaign, resume_campaign, start_campaign
from delivery.models import Delivery
from tests.delivery.test_campaign_end_to_end import wait_for_status
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers, start_beat, start_worker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def wait_until(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def wait_until_quiet(smtpd: RunningSmtpServer, quiet_for: float = 1.5) -> int:
    """Wait until no message has arrived for ``quiet_for`` seconds; return the count."""
    count = len(smtpd.handler.messages)
    deadline = time.monotonic() + 15
    last_change = time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now_count = len(smtpd.handler.messages)
        if now_count != count:
            count, last_change = now_count, time.monotonic()
        elif time.monotonic() - last_change >= quiet_for:
            return count
    raise AssertionError("sending never stopped")


def test_a_worker_killed_mid_send_loses_nobody_and_duplicates_only_what_was_in_flight(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 600)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    smtpd.handler.stall_until_disconnect.add("reader300@example.org")

    beat = start_beat(worker_logs)
    first = start_worker(worker_logs, concurrency=1)
    try:
        start_campaign(campaign=campaign)
        assert smtpd.handler.stalled.wait(60), "the send never reached the stalled recipient"
        first.kill()  # SIGKILL, the whole process group, mid-transaction
        assert smtpd.handler.stall_over.wait(10)
        smtpd.handler.stall_until_disconnect.clear()
        assert 0 < len(smtpd.handler.messages) < 600
        assert Delivery.objects.filter(campaign=campaign, status="claimed").exists()

        second = start_worker(worker_logs, concurrency=2)
        try:
            wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=90)
        finally:
            second.stop()
    finally:
        first.stop()
        beat.stop()

    received = smtpd.handler.recipients()
    assert set(received) == {f"reader{i}@example.org" for i in range(600)}
    # Duplicates only among messages on the wire at the kill: at most one per
    # connection (the server's max_connections, 4).
    assert sum(count - 1 for count in received.values()) <= 4
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 600


def test_pause_stops_sending_within_seconds_and_resume_finishes_the_job(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 300)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, rate=60))

    with running_workers(worker_logs):
        start_campaign(campaign=campaign)
        wait_until(lambda: len(smtpd.handler.messages) >= 30, what="first messages")
        pause_campaign(campaign=campaign)
        paused_at = wait_until_quiet(smtpd)
        assert paused_at < 300
        wait_until(
            lambda: not Delivery.objects.filter(campaign=campaign, status="claimed").exists(),
            timeout=10,
            what="claims to be released",
        )
        time.sleep(2)
        assert len(smtpd.handler.messages) == paused_at, "messages were sent while paused"

        campaign.refresh_from_db()
        resume_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=60)

    received = smtpd.handler.recipients()
    assert len(received) == 300
    assert max(received.values()) == 1


def test_cancel_stops_sending_and_leaves_the_rest_unsent(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 300)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, rate=60))

    with running_workers(worker_logs):
        start_campaign(campaign=campaign)
        wait_until(lambda: len(smtpd.handler.messages) >= 30, what="first messages")
        cancel_campaign(campaign=campaign)
        stopped_at = wait_until_quiet(smtpd)
        time.sleep(2)
        assert len(smtpd.handler.messages) == stopped_at

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CANCELLED
    sent = Delivery.objects.filter(campaign=campaign, status="sent").count()
    assert sent == stopped_at < 300
    assert Delivery.objects.filter(campaign=campaign, status="pending").count() == 300 - sent
