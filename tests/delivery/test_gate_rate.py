"""The gate's messages-per-second limit (GCRA in Redis), shared by every
worker, test sends and confirmation emails alike."""

from __future__ import annotations

import pytest

from delivery.pipeline.gate import Gate, ServerLimits, Verdict

# The gate reads the domain limits from the database.
pytestmark = pytest.mark.django_db


def limits(server_id: int, per_second: float) -> ServerLimits:
    return ServerLimits(
        server_id=server_id, interval_ms=1000.0 / per_second, burst_ms=0.0, per_hour=0, per_day=0
    )


def test_the_first_message_goes_at_once_and_the_next_waits_one_interval(
    clean_redis: None,
) -> None:
    gate = Gate(limits(9101, 10))
    assert gate.check(domain="example.org").verdict is Verdict.OK
    second = gate.check(domain="example.org")
    assert second.verdict is Verdict.WAIT
    assert 90 < second.wait_ms <= 100


def test_two_workers_share_one_limit(clean_redis: None) -> None:
    """Two processes' gates on the same server draw from one budget."""
    worker_a = Gate(limits(9102, 2))
    worker_b = Gate(limits(9102, 2))
    assert worker_a.check(domain="example.org").verdict is Verdict.OK
    assert worker_b.check(domain="example.org").verdict is Verdict.WAIT


def test_different_servers_have_independent_limits(clean_redis: None) -> None:
    assert Gate(limits(9103, 1)).check(domain="example.org").verdict is Verdict.OK
    assert Gate(limits(9104, 1)).check(domain="example.org").verdict is Verdict.OK


@pytest.mark.parametrize("rate", [0.5, 1000.0])
def test_waiting_is_bounded_by_the_interval(clean_redis: None, rate: float) -> None:
    gate = Gate(limits(9105, rate))
    gate.check(domain="example.org")
    assert gate.check(domain="example.org").wait_ms <= 1000.0 / rate


def test_a_gate_without_a_claim_journals_nothing(clean_redis: None) -> None:
    from postino.redis import redis_client

    gate = Gate(limits(9106, 1000))
    gate.check(domain="example.org", inflight="7", journal=[("{}", "6")])
    assert not redis_client().keys("postino:journal:*")
    assert not redis_client().keys("postino:inflight:*")
