"""Shaping and failover, with the chunk run in-process against real Redis
and a real SMTP server on loopback."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignServer
from delivery.models import Delivery, DomainLimit, SmtpServer
from delivery.pipeline import breaker
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.gate import Gate, ServerLimits, Verdict, warmup_daily_limit
from delivery.pipeline.scheduling import choose_server
from delivery.pipeline.slots import ConnectionSlots
from delivery.pipeline.smtp import SmtpPool, SmtpSettings
from delivery.pipeline.types import NoConnectionSlot
from postino import jobs
from tests.delivery.test_worker_control import wait_until
from tests.support.factories import (
    add_audience,
    make_campaign,
    make_list,
    make_smtp_server,
    running,
)
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_settings(settings: Any) -> Any:
    settings.POSTINO = {**settings.POSTINO, "RETRY_BASE_SECONDS": 60.0, "CHUNK_SIZE": 100}
    return settings


def statuses(campaign: Campaign) -> dict[str, int]:
    result: dict[str, int] = {}
    for status in Delivery.objects.filter(campaign=campaign).values_list("status", flat=True):
        result[status] = result.get(status, 0) + 1
    return result


def test_the_warm_up_ramp_grows_daily_and_never_exceeds_the_fixed_cap() -> None:
    server = SmtpServer(
        messages_per_second=10, warmup_start_per_day=100, warmup_growth_factor=2.0,
        warmup_started_on=date(2026, 1, 1), messages_per_day=1000,
    )  # fmt: skip
    limits = [warmup_daily_limit(server, date(2026, 1, 1) + timedelta(days=d)) for d in range(6)]
    assert limits == [100, 200, 400, 800, 1000, 1000]
    assert warmup_daily_limit(SmtpServer(messages_per_second=1), date(2026, 1, 1)) is None


def test_a_daily_quota_sends_that_many_then_defers_the_rest(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    server = make_smtp_server(smtpd)
    SmtpServer.objects.filter(pk=server.pk).update(messages_per_day=7)
    server.refresh_from_db()
    news = make_list()
    add_audience(news, 12)
    campaign = running(make_campaign(lists=[news], server=server))

    assert run_chunk(campaign.pk) == 7

    assert statuses(campaign) == {"sent": 7, "pending": 5}
    deferred = Delivery.objects.filter(campaign=campaign, status="pending")
    assert all(row.next_attempt_at and row.next_attempt_at > timezone.now() for row in deferred)
    assert all(row.attempts == 0 for row in deferred)
    assert "quota" in breaker.server_down_reason(server.pk)


def test_a_throttled_domain_is_deferred_while_other_domains_go_on(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    DomainLimit.objects.create(domain="slowmail.example", messages_per_minute=1)
    news = make_list()
    add_audience(news, 4, prefix="slow", domain="slowmail.example")
    add_audience(news, 4, prefix="fast", domain="example.org")
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))

    assert run_chunk(campaign.pk) == 5

    sent = set(
        Delivery.objects.filter(campaign=campaign, status="sent").values_list(
            "subscriber__email", flat=True
        )
    )
    assert sent == {"slow0@slowmail.example"} | {f"fast{i}@example.org" for i in range(4)}
    waiting = Delivery.objects.filter(campaign=campaign, status="pending")
    assert {row.smtp_reply for row in waiting} == {
        "deferred: slowmail.example is at its sending limit"
    }
    assert all(row.attempts == 0 for row in waiting)


def test_an_unreachable_server_fails_over_to_the_others(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    dead = SmtpServer.objects.create(
        name="Dead", host="127.0.0.1", port=free_port(), security="none", messages_per_second=100
    )
    alive = make_smtp_server(smtpd, name="Alive")
    news = make_list()
    add_audience(news, 30)
    campaign = make_campaign(lists=[news], server=dead)
    # The dead server is (almost surely) picked first, and then out of rotation.
    Campaign.objects.filter(pk=campaign.pk).update(smtp_weight=10_000)
    CampaignServer.objects.create(campaign=campaign, smtp_server=alive, weight=1)
    campaign = running(Campaign.objects.get(pk=campaign.pk))

    assert run_chunk(campaign.pk) == 0
    assert statuses(campaign) == {"pending": 30}
    assert run_chunk(campaign.pk) == 30

    assert statuses(campaign) == {"sent": 30}
    assert set(Delivery.objects.values_list("smtp_server_id", flat=True)) == {alive.pk}
    assert breaker.server_unavailable_for(dead.pk) > 0
    assert len(smtpd.handler.messages) == 30


def test_weights_share_the_traffic_between_servers() -> None:
    first = SmtpServer(pk=1, name="a", messages_per_second=1)
    second = SmtpServer(pk=2, name="b", messages_per_second=1)
    picks = [choose_server([(first, 3), (second, 1)])[0] for _ in range(4000)]
    share = sum(1 for server in picks if server is first) / len(picks)
    assert 0.70 < share < 0.80


def test_a_campaign_whose_messages_keep_failing_pauses_itself(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    news = make_list()
    add_audience(news, 30)
    for i in range(30):
        smtpd.handler.refuse_always[f"reader{i}@example.org"] = "550 5.7.1 Rejected as spam"
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    Campaign.objects.filter(pk=campaign.pk).update(max_errors=10)
    campaign = running(Campaign.objects.get(pk=campaign.pk))

    run_chunk(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason == "Paused automatically: 10 messages in a row failed."
    # It stopped soon after the threshold instead of burning the whole list.
    assert statuses(campaign)["failed"] < 30


def test_a_high_error_rate_pauses_the_campaign(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    fast_settings.POSTINO = {**fast_settings.POSTINO, "ERROR_RATE_MIN_SAMPLE": 20}
    news = make_list()
    add_audience(news, 40)
    for i in range(0, 40, 2):
        smtpd.handler.refuse_always[f"reader{i}@example.org"] = "550 5.1.1 No such user"
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    Campaign.objects.filter(pk=campaign.pk).update(max_error_rate=0.3)
    campaign = running(Campaign.objects.get(pk=campaign.pk))

    run_chunk(campaign.pk)

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason.startswith("Paused automatically: 50% of 40 attempts failed")


def test_a_gate_allows_then_makes_the_next_message_wait(clean_redis: None) -> None:
    import uuid

    gate = Gate(
        ServerLimits(server_id=9001, interval_ms=100.0, burst_ms=0.0, per_hour=0, per_day=0),
        claim=uuid.uuid4(),
    )
    assert gate.check(domain="example.org", inflight="1").verdict is Verdict.OK
    second = gate.check(domain="example.org", inflight="2")
    assert second.verdict is Verdict.WAIT
    assert 0 < second.wait_ms <= 100


def test_the_connection_cap_holds_across_processes(clean_redis: None) -> None:
    slots = ConnectionSlots(server_id=9002, maximum=2)
    assert slots.acquire("worker-a:1") and slots.acquire("worker-b:1")
    assert not slots.acquire("worker-c:1")
    assert slots.acquire("worker-a:1"), "refreshing a held slot always works"
    slots.release("worker-b:1")
    assert slots.acquire("worker-c:1")
    assert slots.in_use() == 2


def _settings(smtpd: RunningSmtpServer, *, max_connections: int, key: str) -> SmtpSettings:
    return SmtpSettings(
        host=smtpd.host, port=smtpd.port, security="starttls", username=smtpd.username,
        password=smtpd.password, timeout=5, max_connections=max_connections, key=key,
    )  # fmt: skip


def _leave_idle(pool: SmtpPool, cfg: SmtpSettings, slots: ConnectionSlots, count: int) -> None:
    """Open ``count`` connections at once, then give them back to the pool:
    still open, each still holding a slot."""
    handles = [pool.borrow(cfg, slots) for _ in range(count)]
    for handle in handles:
        handle.get()
    for handle in handles:
        handle.release()


def test_a_pool_refuses_to_open_beyond_the_shared_cap(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    cfg = _settings(smtpd, max_connections=1, key="cap-test")
    slots = ConnectionSlots(server_id=9003, maximum=1)
    assert slots.acquire("someone-else")
    pool = SmtpPool()
    with pool.connection(cfg, slots) as handle, pytest.raises(NoConnectionSlot):
        handle.get()
    slots.release("someone-else")
    with pool.connection(cfg, slots) as handle:
        handle.get()
        assert slots.in_use() == 1
        handle.discard()
    assert slots.in_use() == 0
    pool.close_all()


def test_idle_pooled_connections_beyond_a_share_give_their_slots_back(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    """A worker's pool must not sit on slots another worker's chunk waits for."""
    cfg = _settings(smtpd, max_connections=3, key="trim-test")
    slots = ConnectionSlots(server_id=9004, maximum=3)
    pool = SmtpPool()
    _leave_idle(pool, cfg, slots, 3)
    assert pool.idle_count(cfg) == 3 and slots.in_use() == 3
    assert not slots.acquire("other-worker:1")

    assert pool.trim(cfg, keep=1) == 2

    assert pool.idle_count(cfg) == 1
    wait_until(lambda: slots.in_use() == 1, timeout=5, what="the surplus connections to close")
    assert slots.acquire("other-worker:1")
    pool.close_all()


def test_a_limit_on_an_internationalised_domain_applies_to_its_recipients(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    DomainLimit.objects.create(domain="xn--bcher-kva.example", messages_per_minute=1)
    news = make_list()
    add_audience(news, 3, prefix="leser", domain="bücher.example")
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))

    assert run_chunk(campaign.pk) == 1
    assert statuses(campaign) == {"sent": 1, "pending": 2}


def test_a_domain_briefly_at_its_limit_waits_in_the_chunk_instead_of_the_ledger(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    DomainLimit.objects.create(domain="busymail.example", messages_per_minute=600)  # 10/s
    news = make_list()
    add_audience(news, 5, prefix="busy", domain="busymail.example")
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))

    assert run_chunk(campaign.pk) == 5

    assert statuses(campaign) == {"sent": 5}
    assert not Delivery.objects.filter(smtp_reply__startswith="deferred").exists()


@pytest.mark.parametrize(("due_in", "queued"), [(3.0, True), (120.0, False)])
def test_rows_given_back_for_a_moment_keep_the_chunks_going_without_beat(
    smtpd: RunningSmtpServer, clean_redis: None, queued_jobs: QueuedJobs, due_in: float,
    queued: bool, django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    """A chunk that finds nothing due now, with rows due in a few seconds,
    queues the next chunk for then; rows due later are left to beat's tick."""
    news = make_list()
    add_audience(news, 5)
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))
    Delivery.objects.filter(campaign=campaign).update(
        next_attempt_at=timezone.now() + timedelta(seconds=due_in)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert run_chunk(campaign.pk) == 0

    later = [job for job in queued_jobs if job.name == jobs.SEND_CHUNK]
    if queued:
        assert [job.args for job in later] == [(campaign.pk,)]
        assert later[0].countdown is not None
        assert due_in - 1 < later[0].countdown <= due_in + 0.1
    else:
        assert later == []
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
