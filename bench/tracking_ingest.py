"""Tracking ingest throughput: queued opens and clicks written with their rollups.

200,000 events (a third clicks over 20 links, some of them by scanners and
mail proxies) from 20,000 recipients of one campaign are queued in Redis,
then drained as the ingest worker drains them: verdicts, events, engagement,
per-day, per-link and per-domain rollups, batch by batch. The reference is a
bare ``bulk_create`` of the same rows into the events table in the same run:
what writing the raw events alone costs. Target: at least 5,000 events/s.

Usage: ``python bench/tracking_ingest.py [--events N] [--recipients N] [--redis-db D]``. It uses
its own database (``postino_bench_tracking``, recreated) on ``DATABASE_URL``'s
server and flushes Redis database D (default 15) on ``REDIS_URL``'s server.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

TARGET_EVENTS_PER_SECOND = 5_000
PERSON = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
AGENTS = [PERSON] * 8 + ["Mozilla/5.0", "Mimecast Link Scanner"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--redis-db", type=int, default=15)
    args = parser.parse_args()
    recipients = args.recipients

    url = own_database.recreate("postino_bench_tracking")
    own_database.use(url)
    redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ["REDIS_URL"] = urlunsplit(urlsplit(redis_base)._replace(path=f"/{args.redis_db}"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from campaigns.models import Campaign
    from postino.redis import redis_client
    from subscribers.models import Subscriber
    from tracking import ingest, queue
    from tracking.models import CampaignHour, Event

    client = redis_client()
    client.flushdb()
    campaign = Campaign.objects.create(
        name="Bench", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )
    people = Subscriber.objects.bulk_create(
        (
            Subscriber(email=f"r{n}@{random.choice(['gmail.com', 'outlook.com', 'web.de'])}")
            for n in range(recipients)
        ),
        batch_size=5000,
    )
    chooser = random.Random(5)
    start = time.time() - 86_400
    events = []
    for n in range(args.events):
        event = {
            "k": "click" if n % 3 == 0 else "open",
            "c": campaign.pk,
            "s": people[chooser.randrange(recipients)].pk,
            "a": chooser.choice(AGENTS),
            "t": start + n * 0.3,
        }
        if event["k"] == "click":
            event["u"] = f"https://shop.example/item/{chooser.randrange(20)}"
        events.append(json.dumps(event))
    for at in range(0, len(events), 5000):
        client.lpush(queue.QUEUE, *events[at : at + 5000])

    # Reference: the raw rows alone, without verdicts, engagement or rollups.
    now = timezone.now()
    started = time.perf_counter()
    Event.objects.bulk_create(
        (
            Event(
                campaign=campaign,
                subscriber_id=people[n % recipients].pk,
                kind="open",
                human=True,
                occurred_at=now,
            )
            for n in range(args.events)
        ),
        batch_size=2000,
    )
    bare = time.perf_counter() - started
    Event.objects.all().delete()
    print(f"events: {args.events:,} from {recipients:,} recipients (a third clicks on 20 links)")
    print(f"bare bulk insert of the raw events:  {bare:6.2f} s  ({args.events / bare:,.0f} /s)")

    started = time.perf_counter()
    done = 0
    while queue.depth():
        done += ingest.drain()
    elapsed = time.perf_counter() - started
    assert done == args.events == Event.objects.count(), (done, Event.objects.count())
    day_total = sum(
        d.opens + d.machine_opens + d.clicks + d.machine_clicks for d in CampaignHour.objects.all()
    )
    assert day_total == args.events, day_total
    rate = args.events / elapsed
    verdict = "MET" if rate >= TARGET_EVENTS_PER_SECOND else "NOT MET"
    print(f"Postino ingest (verdicts, events, rollups): {elapsed:6.2f} s  ({rate:,.0f} events/s)")
    print(f"  target at least {TARGET_EVENTS_PER_SECOND:,} events/s: {verdict}")
    client.flushdb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
