"""A real ingest worker killed mid-drain: its batch is taken over, no event lost or doubled."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from django.db.models import Sum

from campaigns.models import Campaign
from postino.redis import redis_client
from subscribers.models import Subscriber
from tests.delivery.test_worker_control import wait_until
from tests.support.workers import start_beat, start_worker, worker_environment
from tracking import queue
from tracking.models import CampaignHour, Engagement, Event

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

PEOPLE = 100
OPENS_EACH = 150
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def test_an_ingest_worker_killed_mid_drain_loses_and_doubles_nothing(
    clean_redis: None, worker_logs: Path
) -> None:
    # Small batches and a short lease: the kill lands mid-drain, the takeover within seconds.
    env = worker_environment(
        {
            "TRACKING_INGEST_BATCH": "100",
            "TRACKING_CLAIM_LEASE_SECONDS": "3",
            "TRACKING_INGEST_SECONDS": "0.5",
        }
    )
    campaign = Campaign.objects.create(
        name="Spring", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )
    people = Subscriber.objects.bulk_create(
        Subscriber(email=f"p{n}@example.com") for n in range(PEOPLE)
    )
    now = time.time() - 3600
    events = [
        json.dumps({"k": "open", "c": campaign.pk, "s": person.pk, "a": BROWSER, "t": now + n})
        for n in range(OPENS_EACH)
        for person in people
    ]
    client = redis_client()
    for start in range(0, len(events), 1000):
        client.lpush(queue.QUEUE, *events[start : start + 1000])
    total = len(events)

    first = start_worker(worker_logs, concurrency=1, env=env)
    beat = start_beat(worker_logs, env=env)
    second = None
    try:
        wait_until(lambda: Event.objects.count() > 1_000, what="the drain to write some events")
        first.kill()
        assert Event.objects.count() < total, "the drain finished before the kill"
        second = start_worker(worker_logs, concurrency=1, env=env)
        wait_until(
            lambda: Event.objects.count() == total and not client.zcard(queue.CLAIMS),
            timeout=120,
            what="every event to be ingested on the second worker",
        )
    finally:
        beat.stop()
        if second is not None:
            second.stop()
        first.stop()
    day = CampaignHour.objects.aggregate(opens=Sum("opens"), unique=Sum("unique_opens"))
    assert (day["opens"], day["unique"]) == (total, PEOPLE)
    assert set(Engagement.objects.values_list("opens", flat=True)) == {OPENS_EACH}
    assert queue.depth() == 0
