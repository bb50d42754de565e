"""The engine under failure, with real workers: Redis restarts, misbehaving
SMTP servers, and rates that must hold across workers."""

from __future__ import annotations

import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from campaigns.models import Campaign
from campaigns.services import start_campaign
from delivery.models import Delivery, DomainLimit
from postino.redis import redis_client
from tests.delivery.test_campaign_end_to_end import wait_for_status
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer, free_port
from tests.support.workers import running_workers, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed for this test"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)


@pytest.fixture
def own_redis(settings: object) -> Iterator[OwnRedis]:
    """A Redis of this test's own, so it can be restarted without harming others."""
    server = OwnRedis(port=free_port())
    server.start()
    settings.REDIS_URL = server.url  # type: ignore[attr-defined]
    redis_client.cache_clear()
    yield server
    server.stop()
    redis_client.cache_clear()


def test_a_redis_restart_mid_campaign_still_delivers_everyone_once(
    smtpd: RunningSmtpServer, own_redis: OwnRedis, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 600)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, rate=150))
    env = worker_environment({"REDIS_URL": own_redis.url})

    with running_workers(worker_logs, env=env):
        # The test process's Celery app still points at the suite's broker, so
        # this campaign is dispatched by beat's tick on this test's own Redis.
        start_campaign(campaign=campaign)
        deadline = time.monotonic() + 60
        while len(smtpd.handler.messages) < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        own_redis.stop()  # broker, rate state and journals all gone
        time.sleep(1)
        own_redis.start()
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=120)

    received = smtpd.handler.recipients()
    assert set(received) == {f"reader{i}@example.org" for i in range(600)}
    assert max(received.values()) == 1
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 600


def test_dropped_connections_421_replies_and_stalls_are_retried_to_completion(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 300)
    smtpd.handler.drop_every = 40
    smtpd.handler.reply_421_once.update({"reader10@example.org", "reader150@example.org"})
    smtpd.handler.stall_once.update({"reader20@example.org", "reader200@example.org"})
    smtpd.handler.stall_seconds = 3.0
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    env = worker_environment({"SMTP_TIMEOUT": "1"})

    with running_workers(worker_logs, env=env):
        start_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=120)

    received = smtpd.handler.recipients()
    assert set(received) == {f"reader{i}@example.org" for i in range(300)}
    assert max(received.values()) == 1
    for address in ("reader10@example.org", "reader20@example.org"):
        row = Delivery.objects.get(campaign=campaign, subscriber__email=address)
        assert (row.status, row.attempts) == ("sent", 2)
    # The server hung up on us after every 40th message: we reconnected each time.
    assert smtpd.handler.authenticated_sessions >= 300 // 40


def _max_in_window(times: list[float], window: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] > window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_server_and_domain_rates_hold_across_workers(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    """Two worker processes together stay within 10% of each configured limit."""
    news = make_list()
    add_audience(news, 120, domain="example.org")
    # 60 at the domain's 10/s: six seconds, enough for three 2-second windows.
    add_audience(news, 60, prefix="big", domain="bigmail.example")
    DomainLimit.objects.create(domain="bigmail.example", messages_per_minute=600)  # 10/s
    server_rate = 30.0
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, rate=server_rate))
    arrivals: dict[str, list[float]] = {"all": [], "bigmail.example": []}
    original = smtpd.handler.handle_DATA

    async def timed(server: Any, session: Any, envelope: Any) -> str:
        reply = await original(server, session, envelope)
        now = time.monotonic()
        arrivals["all"].append(now)
        if envelope.rcpt_tos[0].endswith("@bigmail.example"):
            arrivals["bigmail.example"].append(now)
        return reply

    smtpd.handler.handle_DATA = timed  # type: ignore[method-assign]
    # Small chunks, so both worker processes send at once.
    env = worker_environment({"SEND_CHUNK_SIZE": "20"})
    with running_workers(worker_logs, concurrency=2, env=env):
        start_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=120)

    assert len(arrivals["all"]) == 180
    for key, limit in (("all", server_rate), ("bigmail.example", 10.0)):
        times = arrivals[key]
        overall = (len(times) - 1) / (times[-1] - times[0])
        assert overall <= limit * 1.10, f"{key}: {overall:.1f}/s over a limit of {limit}/s"
        # No burst either: any 2-second window holds at most 10% over the limit.
        assert _max_in_window(times, 2.0) <= limit * 2 * 1.10 + 1, key
