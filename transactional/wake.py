"""Waking the transactional worker without one task per message.

After a send commits, ``after_commit`` queues a drain unless one is queued
already (a Redis marker set only by the call that queues it). The drain
deletes the marker before its first claim, so a message committed before a
failed ``SET NX`` is seen by the drain that marker belongs to. The marker
expires on its own, and beat's transactional tick drains whatever is due, so
a lost task or a Redis outage delays mail by a tick at most; it never loses it.
"""

from __future__ import annotations

import contextlib
import logging

import redis
from django.db import transaction

from postino import jobs
from postino.redis import redis_client

log = logging.getLogger(__name__)

MARKER = "postino:tx:drain-queued"
# A drain task queued but not started within this long is assumed lost.
MARKER_SECONDS = 10


def after_commit() -> None:
    transaction.on_commit(wake_now)


def wake_now() -> None:
    try:
        queue = bool(redis_client().set(MARKER, "1", nx=True, ex=MARKER_SECONDS))
    except redis.RedisError as exc:
        log.warning("transactional wake-up marker unavailable (%s); queueing a drain", exc)
        queue = True
    if queue:
        jobs.drain_transactional()


def drain_started() -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(MARKER)
