"""Celery tasks: thin wrappers that take IDs and call the send pipeline."""

from __future__ import annotations

import sys
from typing import Any

from celery import shared_task
from celery.signals import worker_process_init, worker_process_shutdown

from delivery.pipeline import chunk, direct, scheduling
from delivery.pipeline.smtp import POOL
from postino import jobs

SWITCH_INTERVAL_SECONDS = 0.0005


@worker_process_init.connect
def _hand_the_gil_over_sooner(**_: Any) -> None:
    # A lane thread whose server has answered waits for the interpreter lock
    # while the chunk's thread renders; the default 5 ms switch interval would
    # add that much to every round trip of every connection.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)


@worker_process_shutdown.connect
def _close_smtp_connections(**_: Any) -> None:
    # Say QUIT to the servers instead of dropping pooled connections on exit.
    POOL.close_all()


@shared_task(name=jobs.DISPATCH_CAMPAIGN)
def dispatch_campaign(campaign_id: int) -> int:
    return scheduling.dispatch(campaign_id)


@shared_task(name=jobs.SEND_CHUNK, acks_late=True)
def send_chunk(campaign_id: int) -> int:
    return chunk.run_chunk(campaign_id)


@shared_task(name=jobs.TICK)
def tick() -> None:
    scheduling.tick()


@shared_task(name=jobs.SEND_TEST_MESSAGES)
def send_test_messages(campaign_id: int, emails: list[str]) -> list[str]:
    return direct.send_tests(campaign_id, emails)
