"""Scheduling: which campaigns get chunks, which server a chunk uses, and
when a campaign is finished.

``dispatch`` queues a few chunk tasks for a running campaign; each re-queues
itself while there is work. ``tick`` (Celery beat) recovers dead workers'
claims, starts scheduled campaigns, re-dispatches campaigns with due rows and
nobody working on them, and finishes campaigns whose rows are all terminal.
"""

from __future__ import annotations

import contextlib
import logging
import random
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db.models import Min
from django.utils import timezone

from campaigns import abtest
from campaigns.models import Campaign
from campaigns.services import start_due_scheduled_campaigns
from delivery.models import Delivery, SmtpServer
from delivery.pipeline import breaker
from delivery.pipeline.claim import due, reclaim_expired_leases
from postino import jobs
from postino.redis import redis_client
from postino.worker_heartbeat import record_queue_heartbeat

log = logging.getLogger(__name__)


def _conf(name: str) -> Any:
    return settings.POSTINO[name]


def _active_key(campaign_id: int) -> str:
    return f"postino:campaign:{campaign_id}:active"


def mark_active(campaign_id: int) -> None:
    """Tell ``tick`` that chunk tasks for this campaign are queued or running."""
    try:
        redis_client().set(_active_key(campaign_id), "1", ex=max(10, int(_conf("LEASE_SECONDS"))))
    except redis.RedisError:
        log.warning("could not mark campaign %s active in Redis", campaign_id)


def clear_active(campaign_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(_active_key(campaign_id))


def _is_marked_active(campaign_id: int) -> bool:
    try:
        return bool(redis_client().exists(_active_key(campaign_id)))
    except redis.RedisError:
        return False


def load_campaign(campaign_id: int) -> Campaign | None:
    return Campaign.objects.select_related("template", "smtp_server").filter(pk=campaign_id).first()


def still_running(campaign_id: int) -> bool:
    return Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).exists()


def dispatch(campaign_id: int) -> int:
    """Queue a few chunk tasks for a running campaign; each re-queues itself."""
    if not still_running(campaign_id):
        return 0
    mark_active(campaign_id)
    count = int(_conf("PARALLEL_CHUNKS"))
    for _ in range(count):
        jobs.send_chunk(campaign_id)
    return count


# Rows due within this long keep the campaign's chunks going (a chunk queued
# for when they are due) rather than waiting for beat's tick to notice them.
CONTINUE_WITHIN_SECONDS = 15.0


def continue_soon(campaign_id: int) -> bool:
    """Queue the campaign's next chunk for when its next rows fall due, if
    that is soon (rows given back for a moment: a busy connection slot, a
    retry's short backoff). True when one was queued."""
    now = timezone.now()
    horizon = now + timedelta(seconds=CONTINUE_WITHIN_SECONDS)
    soonest = (
        Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
        .filter(next_attempt_at__lte=horizon)
        .aggregate(soonest=Min("next_attempt_at"))["soonest"]
    )
    if soonest is None:
        return False
    mark_active(campaign_id)
    jobs.send_chunk_later(campaign_id, max(0.0, (soonest - now).total_seconds()) + 0.05)
    return True


def maybe_finish(campaign_id: int) -> bool:
    """Mark a running campaign finished once every ledger row is terminal."""
    open_rows = Delivery.objects.filter(campaign_id=campaign_id, status__in=Delivery.OPEN_STATUSES)
    if open_rows.exists():
        return False
    now = timezone.now()
    return bool(
        Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).update(
            status=Campaign.Status.FINISHED, finished_at=now, updated_at=now
        )
    )


def tick() -> None:
    """Periodic (beat): recover dead workers' rows, start scheduled campaigns,
    re-dispatch campaigns with due rows and nobody working on them, finish."""
    record_queue_heartbeat()
    reclaimed = reclaim_expired_leases()
    if reclaimed:
        log.info("reclaimed %s rows from expired leases", reclaimed)
    start_due_scheduled_campaigns()
    now = timezone.now()
    # A/B tests: a finished test share starts its wait; a due one sends its winner.
    abtest.advance(now=now)
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list(
        "pk", flat=True
    ):
        if maybe_finish(campaign_id):
            continue
        pending = Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
        if pending.filter(due(now)).exists() and not _is_marked_active(campaign_id):
            dispatch(campaign_id)


# --- which server ------------------------------------------------------------


def campaign_servers(campaign: Campaign) -> list[tuple[SmtpServer, int]]:
    """The campaign's servers with their weights, main server first."""
    servers: list[tuple[SmtpServer, int]] = []
    if campaign.smtp_server is not None:
        servers.append((campaign.smtp_server, max(1, campaign.smtp_weight)))
    for link in campaign.server_links.select_related("smtp_server").order_by("id"):
        if link.smtp_server_id != campaign.smtp_server_id:
            servers.append((link.smtp_server, link.weight))
    return servers


def choose_server(candidates: list[tuple[SmtpServer, int]]) -> tuple[SmtpServer | None, float]:
    """Weighted choice among servers in rotation; else (None, seconds to wait)."""
    available = []
    soonest = float("inf")
    for server, weight in candidates:
        unavailable = breaker.server_unavailable_for(server.pk)
        if unavailable > 0:
            soonest = min(soonest, unavailable)
        else:
            available.append((server, weight))
    if not available:
        return None, soonest if soonest != float("inf") else 0.0
    total = sum(weight for _, weight in available)
    pick = random.uniform(0, total)
    for server, weight in available:
        pick -= weight
        if pick <= 0:
            return server, 0.0
    return available[-1][0], 0.0


def chunk_size(server: SmtpServer) -> int:
    # A slow server gets smaller chunks so leases and pauses stay responsive.
    by_rate = max(10, int(server.messages_per_second * 60))
    return min(int(_conf("CHUNK_SIZE")), by_rate)
