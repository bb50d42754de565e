"""Queue depth in the broker, stage costs from the chunks' clocks, throughput."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from delivery import ops
from delivery.pipeline.chunk import StageClock
from tests.ops.conftest import Ledger, make_campaign


def test_queue_depth_is_the_length_of_the_celery_list_plus_priorities(
    ops_redis: Any, settings: Any
) -> None:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    ops_redis.rpush(queue, "t1", "t2", "t3")
    ops_redis.rpush(f"{queue}\x06\x169", "urgent")
    ops_redis.hset("unacked", mapping={"tag-1": "m", "tag-2": "m"})

    depth = ops.queue_depth()

    assert (depth.name, depth.waiting, depth.unacked) == (queue, 4, 2)


def test_an_empty_queue_is_zero(ops_redis: Any) -> None:
    depth = ops.queue_depth()
    assert (depth.waiting, depth.unacked) == (0, 0)


def test_stage_costs_are_microseconds_per_message_in_pipeline_order(db: None) -> None:
    clock = StageClock()
    clock.seconds.update({"transmit": 0.5, "render": 0.1, "gate": 0.02, "ledger": 0.08})
    clock.messages = 100
    clock.publish()
    clock.publish()  # a second chunk adds to the first

    costs = ops.stage_costs()

    assert costs.messages == 200
    assert [(stage, round(micros)) for stage, _, micros in costs.rows] == [
        ("render", 1000),
        ("gate", 200),
        ("transmit", 5000),
        ("ledger", 800),
    ]
    assert costs.total_micros_per_message == pytest.approx(7000)


def test_no_chunk_yet_means_no_stage_costs(ops_redis: Any) -> None:
    costs = ops.stage_costs()
    assert (costs.messages, costs.rows) == (0, [])


def test_throughput_has_every_minute_of_the_window(ledger: Ledger) -> None:
    campaign = make_campaign()
    now = timezone.now().replace(second=30)
    ledger.add(campaign, 5, status="sent", sent_at=now)
    ledger.add(campaign, 2, status="sent", sent_at=now - timedelta(minutes=3))
    ledger.add(campaign, 9, status="sent", sent_at=now - timedelta(minutes=90))

    points = ops.throughput_per_minute(10, now=now)

    assert len(points) == 10
    assert points[-1] == (now.replace(second=0, microsecond=0), 5)
    assert [count for _, count in points] == [0, 0, 0, 0, 0, 0, 2, 0, 0, 5]
