"""Celery tasks of tracking: thin wrappers, started by beat."""

from __future__ import annotations

from celery import shared_task

from postino import jobs
from tracking import ingest


@shared_task(name=jobs.INGEST_TRACKING)
def ingest_tracking() -> int:
    return ingest.drain()


@shared_task(name=jobs.FORGET_TRACKING_EVENTS)
def forget_tracking_events() -> int:
    return ingest.forget_old()
