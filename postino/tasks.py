"""Celery tasks of the project package: thin wrappers over plain functions."""

from __future__ import annotations

from celery import shared_task

from postino import jobs
from postino.worker_heartbeat import record_queue_heartbeat


@shared_task(name=jobs.HEARTBEAT)
def heartbeat() -> None:
    record_queue_heartbeat()
