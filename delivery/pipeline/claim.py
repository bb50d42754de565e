"""Claim: take a chunk of due ledger rows for one worker, atomically, with a lease.

A chunk claims up to CHUNK_SIZE due rows in one short transaction
(``FOR UPDATE SKIP LOCKED``, so concurrent workers never claim the same row),
then does all network I/O outside any transaction. A worker killed mid-chunk
leaves its unsent rows ``claimed`` with a lease that ``tick`` returns to
``pending`` once it expires, after replaying the dead worker's journal
(``delivery.pipeline.record.recover_claim``): nobody is skipped.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from bounces.services import suppressed_emails
from delivery.models import Delivery
from delivery.pipeline.record import recover_claim


def _lease() -> timedelta:
    return timedelta(seconds=int(settings.POSTINO["LEASE_SECONDS"]))


def due(now: Any) -> Q:
    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def claim_chunk(campaign_id: int, size: int) -> uuid.UUID | None:
    """Atomically claim up to ``size`` due rows; returns the claim token."""
    now = timezone.now()
    token = uuid.uuid4()
    with transaction.atomic():
        ids = list(
            Delivery.objects.filter(campaign_id=campaign_id, status=Delivery.Status.PENDING)
            .filter(due(now))
            .order_by("id")
            .select_for_update(skip_locked=True)
            .values_list("id", flat=True)[:size]
        )
        if not ids:
            return None
        Delivery.objects.filter(id__in=ids).update(
            status=Delivery.Status.CLAIMED,
            claim_token=token,
            lease_until=now + _lease(),
            updated_at=now,
        )
    return token


def claimed_rows(token: uuid.UUID) -> tuple[list[Delivery], list[tuple[Delivery, str]]]:
    """The claim's rows with their subscribers, in two queries: those to send,
    and those whose address was suppressed since the audience was snapshotted
    (a bounce or complaint from an earlier message), with the reason."""
    rows = list(
        Delivery.objects.filter(claim_token=token, status=Delivery.Status.CLAIMED)
        .select_related("subscriber")
        .order_by("id")
    )
    suppressed = suppressed_emails(row.subscriber.email for row in rows)
    if not suppressed:
        return rows, []
    skipped = [
        (row, suppressed[row.subscriber.email].replace("_", " "))
        for row in rows
        if row.subscriber.email in suppressed
    ]
    return [row for row in rows if row.subscriber.email not in suppressed], skipped


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
        lease_until=timezone.now() + _lease()
    )


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
