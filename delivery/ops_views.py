"""The live operations page: what is sending, how fast, and what holds it back.

The page renders a snapshot (``delivery.ops.snapshot``); ``postino.js``
re-fetches the ``live`` fragment every few seconds and swaps it in. The same
snapshot is available as JSON for scripts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from delivery import ops
from postino.charts import bar_chart
from postino.permissions import staff_required

POLL_SECONDS = 3
THROUGHPUT_MINUTES = 60


def _context(snap: ops.Snapshot) -> dict[str, Any]:
    points = [
        (timezone.localtime(minute).strftime("%H:%M"), count) for minute, count in snap.throughput
    ]
    return {
        "snap": snap,
        "throughput_chart": bar_chart(points, unit="messages"),
        "throughput_minutes": THROUGHPUT_MINUTES,
        "poll_seconds": POLL_SECONDS,
        "now": timezone.localtime(snap.at),
    }


@require_GET
@staff_required
def operations(request: HttpRequest) -> HttpResponse:
    snap = ops.snapshot(throughput_minutes=THROUGHPUT_MINUTES)
    return render(request, "delivery/ops/index.html", _context(snap))


@never_cache
@require_GET
@staff_required
def operations_live(request: HttpRequest) -> HttpResponse:
    """The page's body as a fragment, re-fetched by the page every few seconds."""
    snap = ops.snapshot(throughput_minutes=THROUGHPUT_MINUTES)
    return render(request, "delivery/ops/_live.html", _context(snap))


@never_cache
@require_GET
@staff_required
def operations_data(request: HttpRequest) -> JsonResponse:
    """The same snapshot as JSON."""
    return JsonResponse(snapshot_payload(ops.snapshot(throughput_minutes=THROUGHPUT_MINUTES)))


def snapshot_payload(snap: ops.Snapshot) -> dict[str, Any]:
    return {
        "at": snap.at.isoformat(),
        "redis_ok": snap.redis_ok,
        "campaigns": [
            {
                **asdict(campaign),
                "rate": round(campaign.rate, 3),
                "eta_seconds": (
                    None if campaign.eta_seconds is None else round(campaign.eta_seconds)
                ),
                "percent": campaign.percent,
            }
            for campaign in snap.campaigns
        ],
        "servers": [
            {**asdict(server), "state": server.state, "rate": round(server.rate, 3)}
            for server in snap.servers
        ],
        "domains": [{**asdict(domain), "throttled": domain.throttled} for domain in snap.domains],
        "queue": asdict(snap.queue) if snap.queue is not None else None,
        "retry_backlog": snap.retry_backlog,
        "sent_last_minute": snap.sent_last_minute,
        "sending_rate": round(snap.sending_rate, 3),
        "workers": [asdict(beat) for beat in snap.workers],
        "errors": [
            {**asdict(group), "last_at": group.last_at.isoformat()} for group in snap.errors
        ],
        "events": [
            {
                "at": event.at.isoformat() if event.at else None,
                "kind": event.kind,
                "message": event.message,
            }
            for event in snap.events
        ],
        "stages": {
            "messages": snap.stages.messages,
            "micros_per_message": {
                stage: round(micros, 1) for stage, _, micros in snap.stages.rows
            },
        },
        "throughput": [
            {"minute": minute.isoformat(), "sent": count} for minute, count in snap.throughput
        ],
    }
