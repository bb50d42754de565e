"""The send pipeline: claim a chunk of the ledger, render, send, record.

Life of a ledger row (``delivery.models.Delivery``)::

    pending ──claim──▶ claimed ──250──▶ sent
       ▲                 │  └────5xx──▶ failed
       └── 4xx/drop ─────┘  (next_attempt_at = now + backoff; failed after MAX_ATTEMPTS)

A chunk task claims up to CHUNK_SIZE due rows in one short transaction
(``FOR UPDATE SKIP LOCKED``, so concurrent workers never claim the same row),
then does all SMTP I/O outside any transaction. Each outcome is recorded right
after the server answers, so a worker killed mid-chunk leaves its unsent rows
``claimed`` with a lease that ``tick`` returns to ``pending`` once it expires:
nobody is skipped. The only duplicate window is one message per connection:
the server accepted it but the worker died before the row was marked sent.
"""

from __future__ import annotations

import contextlib
import logging
import random
import uuid
from datetime import timedelta
from typing import Any

import redis
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import start_due_scheduled_campaigns
from delivery.ledger import recover_claim
from delivery.messages import MessageFactory
from delivery.models import Delivery
from delivery.ratelimit import RateLimiter
from delivery.smtp import POOL, Outcome, SmtpConnectError, SmtpSettings, send_message
from postino.redis import redis_client
from subscribers.models import Subscriber

log = logging.getLogger(__name__)


def _conf(name: str) -> Any:
    return settings.POSTINO[name]


def _active_key(campaign_id: int) -> str:
    return f"postino:campaign:{campaign_id}:active"


def _mark_active(campaign_id: int) -> None:
    # Tells `tick` that chunk tasks for this campaign are queued or running.
    try:
        redis_client().set(_active_key(campaign_id), "1", ex=max(10, int(_conf("LEASE_SECONDS"))))
    except redis.RedisError:
        log.warning("could not mark campaign %s active in Redis", campaign_id)


def _clear_active(campaign_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(_active_key(campaign_id))


def _is_marked_active(campaign_id: int) -> bool:
    try:
        return bool(redis_client().exists(_active_key(campaign_id)))
    except redis.RedisError:
        return False


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with ±25% jitter so retries of a batch spread out."""
    base = float(_conf("RETRY_BASE_SECONDS"))
    delay = min(base * (2 ** max(0, attempts - 1)), float(_conf("RETRY_MAX_SECONDS")))
    return timedelta(seconds=delay * random.uniform(0.75, 1.25))


def _due(now: Any) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def dispatch(campaign_id: int) -> int:
    """Queue a few chunk tasks for a running campaign; each re-queues itself."""
    from postino import jobs

    if not Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).exists():
        return 0
    _mark_active(campaign_id)
    count = int(_conf("PARALLEL_CHUNKS"))
    for _ in range(count):
        jobs.send_chunk(campaign_id)
    return count


def claim_chunk(campaign_id: int, size: int) -> uuid.UUID | None:
    """Atomically claim up to ``size`` due rows; returns the claim token."""
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
            .filter(_due(now))
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return None
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.CLAIMED,
            claim_token=token,
            lease_until=now + timedelta(seconds=int(_conf("LEASE_SECONDS"))),
            updated_at=now,
        )
    return token


def release_claim(token: uuid.UUID) -> int:
    """Give back rows of a claim that were not attempted (pause, cancel, shutdown)."""
    return Delivery.objects.filter(claim_token=token, status=Delivery.Status.CLAIMED).update(
        status=Delivery.Status.PENDING,
        claim_token=None,
        lease_until=None,
        updated_at=timezone.now(),
    )


def renew_lease(token: uuid.UUID) -> None:
    Delivery.objects.filter(claim_token=token, status=Delivery.Status.CLAIMED).update(
        lease_until=timezone.now() + timedelta(seconds=int(_conf("LEASE_SECONDS")))
    )


def _still_running(campaign_id: int) -> bool:
    return Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).exists()


def reclaim_expired_leases() -> int:
    """Claims whose worker died go back to pending, after replaying what the
    worker had journaled (so messages it did send are not sent again)."""
    now = timezone.now()
    expired = Delivery.objects.filter(status=Delivery.Status.CLAIMED, lease_until__lt=now)
    for claim in set(expired.values_list("claim_token", flat=True)):
        if claim is not None:
            recover_claim(claim)
    return Delivery.objects.filter(status=Delivery.Status.CLAIMED, lease_until__lt=now).update(
        status=Delivery.Status.PENDING, claim_token=None, lease_until=None, updated_at=now
    )


def _load_campaign(campaign_id: int) -> Campaign | None:
    return Campaign.objects.select_related("template", "smtp_server").filter(pk=campaign_id).first()


def run_chunk(campaign_id: int) -> int:
    """Claim one chunk and send it (see ``delivery.chunk``)."""
    # Imported here: delivery.chunk builds on MessageFactory above.
    from delivery.chunk import run_chunk as run

    return run(campaign_id)


def maybe_finish(campaign_id: int) -> bool:
    """Mark a running campaign finished once every ledger row is terminal."""
    open_rows = Delivery.objects.filter(
        campaign_id=campaign_id, status__in=[Delivery.Status.PENDING, Delivery.Status.CLAIMED]
    )
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
    from postino.worker_heartbeat import record_queue_heartbeat

    record_queue_heartbeat()
    reclaimed = reclaim_expired_leases()
    if reclaimed:
        log.info("reclaimed %s rows from expired leases", reclaimed)
    start_due_scheduled_campaigns()
    now = timezone.now()
    for campaign_id in Campaign.objects.filter(status=Campaign.Status.RUNNING).values_list(
        "pk", flat=True
    ):
        if maybe_finish(campaign_id):
            continue
        due = Delivery.objects.filter(
            campaign_id=campaign_id, status=Delivery.Status.PENDING
        ).filter(_due(now))
        if due.exists() and not _is_marked_active(campaign_id):
            dispatch(campaign_id)


def send_tests(campaign_id: int, emails: list[str]) -> list[str]:
    """Send the campaign to a few addresses now; not recorded in the ledger."""
    campaign = _load_campaign(campaign_id)
    if campaign is None or campaign.smtp_server is None:
        return []
    factory = MessageFactory(campaign)
    known = {s.email: s for s in Subscriber.objects.filter(email__in=emails)}
    cfg = SmtpSettings.from_server(campaign.smtp_server)
    limiter = RateLimiter(
        f"smtp:{campaign.smtp_server.pk}", campaign.smtp_server.messages_per_second
    )
    delivered = []
    with POOL.connection(cfg) as handle:
        for email in emails:
            envelope_from, _message_id, data = factory.build_test(email, known.get(email))
            limiter.acquire()
            try:
                result = send_message(
                    handle, envelope_from=envelope_from, recipient=email, message=data
                )
            except SmtpConnectError as exc:
                log.warning("test send of campaign %s failed: %s", campaign_id, exc)
                break
            if result.outcome is Outcome.SENT:
                delivered.append(email)
            else:
                log.warning("test send to %s refused: %s %s", email, result.code, result.reply)
    return delivered
