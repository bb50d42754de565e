"""A busy moment to look at: N running campaigns, N servers (one down), N
domain limits (one throttled), errors, events, a worker, stage costs."""

from __future__ import annotations

import time
from datetime import timedelta

from django.utils import timezone

from delivery.models import Delivery, DomainLimit
from delivery.pipeline import breaker
from delivery.pipeline.breaker import record_event
from delivery.pipeline.chunk import StageClock
from postino import worker_heartbeat
from postino.redis import redis_client
from tests.ops.conftest import Ledger, make_campaign, make_server


def build_world(ledger: Ledger, size: int, *, first: int = 0) -> None:
    now = timezone.now()
    if first == 0:
        DomainLimit.objects.all().delete()  # the defaults a migration installs
    for i in range(first, first + size):
        server = make_server(f"Relay {i}", messages_per_hour=10_000, messages_per_day=50_000)
        campaign = make_campaign(f"Campaign {i}")
        domain = f"mail{i}.example"
        DomainLimit.objects.create(domain=domain, messages_per_minute=300)
        # Sending for the last 30 s and still going: 60 messages, 2 per second.
        for ago in (30.5, 0.5):
            ledger.add(
                campaign,
                30,
                status=Delivery.Status.SENT,
                sent_at=now - timedelta(seconds=ago),
                server=server,
                domain=domain,
                code=250,
            )
        ledger.add(campaign, 120, domain=domain)
        ledger.add(campaign, 5, next_attempt_at=now + timedelta(minutes=4), code=421,
                   reply="421 4.7.0 Try again later", domain=domain)  # fmt: skip
        ledger.add(campaign, 3, status=Delivery.Status.FAILED, code=550,
                   reply="550 5.1.1 <r@x>: Recipient address rejected", domain=domain)  # fmt: skip
        redis_client().set(f"postino:quota:{server.pk}:h:{now:%Y%m%d%H}", 60)
    breaker.mark_server_down(server.pk, "timed out connecting to smtp.example.com:587")
    seconds, micros = redis_client().time()
    redis_client().set("postino:rate:domain:mail0.example", seconds * 1000 + micros / 1000 + 20_000)
    record_event("connection", f"server {server.name}: timed out connecting")
    clock = StageClock()
    clock.seconds.update({"render": 0.3, "gate": 0.05, "transmit": 1.2, "ledger": 0.1})
    clock.messages = 60 * size
    clock.publish()
    started = time.time() - 7200
    worker_heartbeat.write_heartbeat(
        worker_heartbeat.Heartbeat(
            hostname="celery@worker-1", pid=311, concurrency=8, started_at=started,
            last_seen=time.time() - 4, active=2, reserved=0,
        )
    )  # fmt: skip
