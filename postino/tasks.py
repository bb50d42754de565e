"""Worker heartbeat: lets /healthz tell whether any Celery worker is alive."""

from __future__ import annotations

import socket
import time

from celery import shared_task

from postino.redis import redis_client

HEARTBEAT_KEY = "postino:worker-heartbeat"
HEARTBEAT_TTL = 60


@shared_task(name="postino.tasks.heartbeat")
def heartbeat() -> None:
    redis_client().set(HEARTBEAT_KEY, f"{socket.gethostname()} {time.time():.0f}", ex=HEARTBEAT_TTL)
