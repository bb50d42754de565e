from __future__ import annotations

import pytest

from delivery.ratelimit import RateLimiter


def test_the_first_message_goes_at_once_and_the_next_waits_one_interval(
    clean_redis: None,
) -> None:
    limiter = RateLimiter("test:one", per_second=10)
    assert limiter.wait_ms() == 0
    wait = limiter.wait_ms()
    assert 90 < wait <= 100


def test_two_workers_share_one_limit(clean_redis: None) -> None:
    """Two processes' limiters with the same key draw from one budget."""
    worker_a = RateLimiter("test:shared", per_second=2)
    worker_b = RateLimiter("test:shared", per_second=2)
    assert worker_a.wait_ms() == 0
    assert worker_b.wait_ms() > 0


def test_different_servers_have_independent_limits(clean_redis: None) -> None:
    assert RateLimiter("test:a", per_second=1).wait_ms() == 0
    assert RateLimiter("test:b", per_second=1).wait_ms() == 0


def test_a_burst_allows_that_many_messages_ahead(clean_redis: None) -> None:
    limiter = RateLimiter("test:burst", per_second=1, burst=3)
    assert [limiter.wait_ms() == 0 for _ in range(4)] == [True, True, True, False]


@pytest.mark.parametrize("rate", [0.5, 1000.0])
def test_waiting_is_bounded_by_the_interval(clean_redis: None, rate: float) -> None:
    limiter = RateLimiter(f"test:bound:{rate}", per_second=rate)
    limiter.wait_ms()
    assert limiter.wait_ms() <= 1000.0 / rate
