"""Celery tasks of transactional mail: thin wrappers, on the ``postino-tx`` queue."""

from __future__ import annotations

from celery import shared_task

from postino import jobs
from transactional import sending, services


@shared_task(name=jobs.DRAIN_TRANSACTIONAL)
def drain() -> int:
    return sending.drain()


@shared_task(name=jobs.TX_TICK)
def tick() -> int:
    return sending.tick()


@shared_task(name=jobs.FORGET_IDEMPOTENCY_KEYS)
def forget_idempotency_keys() -> int:
    return services.forget_old_keys()


@shared_task(name=jobs.FORGET_TX_MESSAGES)
def forget_messages() -> int:
    return services.forget_old_messages()
