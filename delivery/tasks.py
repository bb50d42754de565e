"""Celery tasks: thin wrappers that take IDs and call the send pipeline."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_process_shutdown

from delivery.pipeline import chunk, direct, scheduling
from delivery.pipeline.smtp import POOL
from postino import jobs


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
