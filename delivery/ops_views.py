"""The live operations page: what is sending, how fast, and what holds it back.

The page renders a snapshot (``delivery.ops.snapshot``); ``postino.js``
re-fetches the ``live`` fragment every few seconds and swaps it in. The
compliance panel (``delivery.compliance``: complaint rates, DNS alignment,
one-click unsubscribe) is a second fragment, re-fetched less often because
its figures move slowly and its inputs (a week of sends, DNS) are slow to
read. Both are available as JSON for scripts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from bounces.selectors import format_rate
from delivery import compliance, ops
from postino.charts import bar_chart
from postino.permissions import staff_required

POLL_SECONDS = 3
COMPLIANCE_POLL_SECONDS = 15
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
        "compliance_poll_seconds": COMPLIANCE_POLL_SECONDS,
        "now": timezone.localtime(snap.at),
    }


def _compliance_context(panel: compliance.Compliance) -> dict[str, Any]:
    return {
        "panel": panel,
        "complaint_warning": format_rate(compliance.COMPLAINT_WARNING),
        "complaint_critical": format_rate(compliance.COMPLAINT_CRITICAL),
        "compliance_poll_seconds": COMPLIANCE_POLL_SECONDS,
    }


@require_GET
@staff_required
def operations(request: HttpRequest) -> HttpResponse:
    snap = ops.snapshot(throughput_minutes=THROUGHPUT_MINUTES)
    context = {**_context(snap), **_compliance_context(compliance.compliance())}
    return render(request, "delivery/ops/index.html", context)


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
def operations_compliance(request: HttpRequest) -> HttpResponse:
    """The compliance panel as a fragment, re-fetched every COMPLIANCE_POLL_SECONDS."""
    panel = compliance.compliance()
    return render(request, "delivery/ops/_compliance.html", _compliance_context(panel))


@never_cache
@require_GET
@staff_required
def operations_data(request: HttpRequest) -> JsonResponse:
    """The same snapshot, and the compliance panel, as JSON."""
    snap = ops.snapshot(throughput_minutes=THROUGHPUT_MINUTES)
    return JsonResponse(snapshot_payload(snap, panel=compliance.compliance()))


def _rate(fraction: float) -> float:
    return round(fraction, 6)


def compliance_payload(panel: compliance.Compliance) -> dict[str, Any]:
    return {
        "at": panel.at.isoformat(),
        "thresholds": {
            "complaint_warning": compliance.COMPLAINT_WARNING,
            "complaint_critical": compliance.COMPLAINT_CRITICAL,
        },
        "complaint_level": panel.complaint_level,
        "rates": [
            {
                "window": window.label,
                "sent": window.summary.sent,
                "attempted": window.summary.attempted,
                "complaints": window.summary.complaints,
                "hard_bounces": window.summary.hard,
                "complaint_rate": _rate(window.summary.complaint_rate),
                "hard_bounce_rate": _rate(window.summary.hard_rate),
                "complaint_level": window.complaint_level,
            }
            for window in panel.rates
        ],
        "domains_status": panel.domains_status,
        "sending_domains": [
            {
                "domain": verdict.domain,
                "status": verdict.alignment.status if verdict.alignment else "pending",
                "checked_at": verdict.checked_at.isoformat() if verdict.checked_at else None,
                **(
                    {
                        part: asdict(getattr(verdict.alignment, part))
                        for part in ("dkim", "spf", "dmarc")
                    }
                    if verdict.alignment
                    else {}
                ),
            }
            for verdict in panel.domains
        ],
        "one_click_status": panel.one_click_status,
        "one_click": [asdict(check) for check in panel.one_click],
    }


def snapshot_payload(
    snap: ops.Snapshot, *, panel: compliance.Compliance | None = None
) -> dict[str, Any]:
    payload = _snapshot_payload(snap)
    if panel is not None:
        payload["compliance"] = compliance_payload(panel)
    return payload


def _snapshot_payload(snap: ops.Snapshot) -> dict[str, Any]:
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
        "scheduled": [
            {
                **asdict(campaign),
                "scheduled_at": campaign.scheduled_at.isoformat()
                if campaign.scheduled_at
                else None,
                "starts_in": None if campaign.starts_in is None else round(campaign.starts_in),
            }
            for campaign in snap.scheduled
        ],
        "servers": [
            {**asdict(server), "state": server.state, "rate": round(server.rate, 3)}
            for server in snap.servers
        ],
        "domains": [{**asdict(domain), "throttled": domain.throttled} for domain in snap.domains],
        "queue": asdict(snap.queue) if snap.queue is not None else None,
        "transactional": {**asdict(snap.transactional), "stuck": snap.transactional.stuck},
        "retry_backlog": snap.retry_backlog,
        "sent_last_minute": snap.sent_last_minute,
        "sending_rate": round(snap.sending_rate, 3),
        "workers": [asdict(beat) for beat in snap.workers],
        "errors": [
            {**asdict(group), "last_at": group.last_at.isoformat()} for group in snap.errors
        ],
        "error_domains": [
            {**asdict(group), "last_at": group.last_at.isoformat()} for group in snap.error_domains
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
