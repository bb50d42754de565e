"""Long work one run holds at a time (imports, bulk actions, exports).

The row says who holds it: ``owner`` (a token) and ``heartbeat_at``, renewed
at each commit. A run takes a queued row, or a running one whose heartbeat
is older than the lease (its run died); ``stalled`` finds the rows to queue
again. The models share the fields ``status`` ("queued", "running"),
``owner``, ``heartbeat_at`` and ``started_at``.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone

QUEUED = "queued"
RUNNING = "running"


def claim(
    model: type[Model],
    pk: int,
    *,
    lease_seconds: int,
    restarts: bool = False,
    **reset: Any,
) -> str | None:
    """Take the row for a new run: its token, or None when another run holds it.

    ``reset`` fields are set with it (work a run starts over); ``restarts``
    stamps ``started_at`` anew, else only the first run's start counts.
    """
    now = timezone.now()
    token = uuid.uuid4().hex
    stale = now - timedelta(seconds=lease_seconds)
    taken = (
        model._default_manager.filter(pk=pk)
        .filter(Q(status=QUEUED) | Q(status=RUNNING, heartbeat_at__lt=stale))
        .update(status=RUNNING, owner=token, heartbeat_at=now, **reset)
    )
    if not taken:
        return None
    started = model._default_manager.filter(pk=pk)
    if not restarts:
        started = started.filter(started_at__isnull=True)
    started.update(started_at=now)
    return token


def stalled(model: type[Model], *, lease_seconds: int, queued_since: str) -> list[int]:
    """Rows whose run died, or whose queue message never led to one: running
    without a heartbeat for a lease, or queued (by ``queued_since``) as long."""
    stale = timezone.now() - timedelta(seconds=lease_seconds)
    return list(
        model._default_manager.filter(
            Q(status=RUNNING, heartbeat_at__lt=stale)
            | Q(status=QUEUED, **{f"{queued_since}__lt": stale})
        ).values_list("pk", flat=True)
    )
