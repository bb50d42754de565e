"""A pause bites before each chunk's next message, not at its next status check.

Real Celery workers send to a real loopback SMTP server at a steady rate;
``pause_campaign`` sets the campaign's stop key, which the per-message gate
checks, so only the messages already handed to the server (one per running
chunk) arrive after the pause returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.services import (
    cancel_campaign,
    pause_campaign,
    resume_campaign,
    snapshot_audience,
    start_campaign,
)
from delivery.models import Delivery
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.gate import Gate, ServerLimits, Verdict, clear_stop, request_stop, stop_key
from tests.delivery.test_campaign_end_to_end import wait_for_status
from tests.delivery.test_worker_control import wait_until, wait_until_quiet
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers, worker_environment

CONCURRENCY = 2  # worker processes, so at most two chunks send at once
AUDIENCE = 200


def _statuses(campaign: Campaign) -> dict[str, int]:
    result: dict[str, int] = {}
    for status in Delivery.objects.filter(campaign=campaign).values_list("status", flat=True):
        result[status] = result.get(status, 0) + 1
    return result


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_after_a_pause_only_the_messages_already_handed_to_the_server_arrive(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, AUDIENCE)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, rate=40))
    # Small chunks so both workers send in parallel; a status check far apart
    # so only the stop key can explain a prompt stop.
    env = worker_environment({"SEND_CHUNK_SIZE": "40", "SEND_STATUS_CHECK_SECONDS": "30"})

    with running_workers(worker_logs, concurrency=CONCURRENCY, env=env):
        start_campaign(campaign=campaign)
        wait_until(lambda: len(smtpd.handler.messages) >= 60, what="the first messages")
        pause_campaign(campaign=campaign)
        at_pause = len(smtpd.handler.messages)
        received = wait_until_quiet(smtpd)
        assert received - at_pause <= CONCURRENCY, (
            f"{received - at_pause} messages arrived after the pause returned"
        )
        wait_until(
            lambda: not Delivery.objects.filter(campaign=campaign, status="claimed").exists(),
            timeout=20,
            what="the chunks to give their rows back",
        )
        # The ledger says exactly what the server received: nobody skipped.
        assert _statuses(campaign) == {"sent": received, "pending": AUDIENCE - received}
        sent_to = set(
            Delivery.objects.filter(campaign=campaign, status="sent").values_list(
                "subscriber__email", flat=True
            )
        )
        assert sent_to == set(smtpd.handler.recipients())

        campaign.refresh_from_db()
        resume_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=90)

    everyone = smtpd.handler.recipients()
    assert len(everyone) == AUDIENCE
    assert max(everyone.values()) == 1
    assert _statuses(campaign) == {"sent": AUDIENCE}


@pytest.mark.django_db
def test_the_gate_answers_stop_while_the_campaign_is_paused_and_not_after_resume(
    clean_redis: None,
) -> None:
    import uuid

    gate = Gate(
        ServerLimits(server_id=9101, interval_ms=0.0, burst_ms=0.0, per_hour=0, per_day=0),
        claim=uuid.uuid4(),
        campaign_id=4242,
    )
    assert gate.check(domain="example.org", inflight="1").verdict is Verdict.OK
    request_stop(4242)
    assert gate.check(domain="example.org", inflight="2").verdict is Verdict.STOP
    clear_stop(4242)
    assert gate.check(domain="example.org", inflight="3").verdict is Verdict.OK


@pytest.mark.django_db(transaction=True)
def test_a_stale_stop_key_does_not_wedge_a_running_campaign(
    smtpd: RunningSmtpServer, clean_redis: None, settings: Any
) -> None:
    news = make_list()
    add_audience(news, 5)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    # Left behind, e.g. by a resume while Redis was away: the database says running.
    request_stop(campaign.pk)

    run_chunk(campaign.pk)

    assert _statuses(campaign) == {"sent": 5}
    assert len(smtpd.handler.messages) == 5


@pytest.mark.django_db
def test_pause_and_cancel_set_the_stop_and_resume_clears_it(
    smtpd: RunningSmtpServer, clean_redis: None, django_capture_on_commit_callbacks: Any
) -> None:
    from postino.redis import redis_client

    news = make_list()
    add_audience(news, 2)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    key = stop_key(campaign.pk)
    with django_capture_on_commit_callbacks():
        start_campaign(campaign=campaign)
    assert not redis_client().exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        pause_campaign(campaign=campaign)
        # Not before the paused status is committed (see _stop_after_commit).
        assert not redis_client().exists(key)
    assert redis_client().exists(key)
    with django_capture_on_commit_callbacks():
        resume_campaign(campaign=campaign)
    assert not redis_client().exists(key)
    with django_capture_on_commit_callbacks(execute=True):
        cancel_campaign(campaign=campaign)
    assert redis_client().exists(key)
