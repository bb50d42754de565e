"""``/metrics``: the operations view's numbers in Prometheus's text format.

Web and worker processes are separate (and there are several of each), so
nothing is counted in this process: a collector reads the ledger and Redis at
scrape time through ``delivery.ops``, the same selectors as the operations
page, with the same fixed number of queries.

Access: ``Authorization: Bearer <METRICS_TOKEN>`` (for Prometheus) or a staff
session (for a person checking). Without either: 401; with a wrong token or a
non-staff session: 403. With no ``METRICS_TOKEN`` configured, only staff
sessions get in.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector, CollectorRegistry

from delivery import ops
from postino.permissions import is_team_member


class PostinoCollector(Collector):
    """Reads one ``ops.snapshot`` per scrape and turns it into metric families."""

    def collect(self) -> Iterator[Metric]:
        snap = ops.snapshot(throughput_minutes=0)
        yield from _campaign_metrics(snap)
        yield from _queue_metrics(snap)
        yield from _server_metrics(snap)
        yield from _domain_metrics(snap)
        yield from _error_metrics(snap)
        yield from _stage_metrics(snap)
        up = GaugeMetricFamily("postino_redis_up", "1 if Redis could be read during this scrape.")
        up.add_metric([], 1.0 if snap.redis_ok else 0.0)
        yield up


def _campaign_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    messages = GaugeMetricFamily(
        "postino_campaign_messages",
        "Ledger rows of each running or paused campaign, by status.",
        labels=["campaign", "name", "status"],
    )
    rate = GaugeMetricFamily(
        "postino_campaign_send_rate",
        "Messages accepted per second, over the part of the last minute it sent in.",
        labels=["campaign", "name"],
    )
    eta = GaugeMetricFamily(
        "postino_campaign_eta_seconds",
        "Seconds until the campaign is done at its current rate (absent when not moving).",
        labels=["campaign", "name"],
    )
    backlog = GaugeMetricFamily(
        "postino_campaign_retry_backlog",
        "Pending messages waiting for a retry time.",
        labels=["campaign", "name"],
    )
    for campaign in snap.campaigns:
        labels = [str(campaign.id), campaign.name]
        for status, value in (
            ("total", campaign.total),
            ("sent", campaign.sent),
            ("failed", campaign.failed),
            ("pending", campaign.pending),
        ):
            messages.add_metric([*labels, status], value)
        rate.add_metric(labels, campaign.rate)
        if campaign.eta_seconds is not None:
            eta.add_metric(labels, campaign.eta_seconds)
        backlog.add_metric(labels, campaign.retry_backlog)
    yield from (messages, rate, eta, backlog)
    running = GaugeMetricFamily(
        "postino_campaigns_live", "Campaigns running or paused.", labels=["status"]
    )
    for status in ops.LIVE_STATUSES:
        running.add_metric(
            [status.value], sum(1 for campaign in snap.campaigns if campaign.status == status)
        )
    yield running
    sent_minute = GaugeMetricFamily(
        "postino_messages_sent_last_minute", "Messages accepted in the last minute, all campaigns."
    )
    sent_minute.add_metric([], snap.sent_last_minute)
    yield sent_minute
    total_rate = GaugeMetricFamily(
        "postino_send_rate",
        "Messages accepted per second, all campaigns (the operations page's sending rate).",
    )
    total_rate.add_metric([], snap.sending_rate)
    yield total_rate


def _queue_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    if snap.queue is not None:
        depth = GaugeMetricFamily(
            "postino_queue_depth", "Tasks waiting in the Celery queue.", labels=["queue"]
        )
        depth.add_metric([snap.queue.name], snap.queue.waiting)
        if snap.transactional.queue is not None:
            tx_queue = snap.transactional.queue
            depth.add_metric([tx_queue.name], tx_queue.waiting)
        unacked = GaugeMetricFamily(
            "postino_queue_unacked", "Tasks taken by workers but not yet acknowledged."
        )
        unacked.add_metric([], snap.queue.unacked)
        yield from (depth, unacked)
    backlog = GaugeMetricFamily(
        "postino_retry_backlog", "Deferred messages waiting to be retried, all live campaigns."
    )
    backlog.add_metric([], snap.retry_backlog)
    yield backlog
    tx = snap.transactional
    waiting = GaugeMetricFamily(
        "postino_tx_waiting", "Transactional messages due and not yet handed to a worker."
    )
    waiting.add_metric([], tx.waiting)
    oldest = GaugeMetricFamily(
        "postino_tx_oldest_wait_seconds",
        "How long the longest-waiting due transactional message has waited (alert on it).",
    )
    oldest.add_metric([], tx.oldest_wait_seconds)
    yield from (waiting, oldest)
    if not snap.redis_ok:
        return
    workers = GaugeMetricFamily("postino_workers", "Celery workers with a live heartbeat.")
    workers.add_metric([], len(snap.workers))
    yield workers
    last_seen = GaugeMetricFamily(
        "postino_worker_last_seen_timestamp_seconds",
        "Unix time of each worker's last heartbeat.",
        labels=["worker"],
    )
    concurrency = GaugeMetricFamily(
        "postino_worker_concurrency", "Pool size of each worker.", labels=["worker"]
    )
    for beat in snap.workers:
        last_seen.add_metric([beat.hostname], beat.last_seen)
        concurrency.add_metric([beat.hostname], beat.concurrency)
    yield from (last_seen, concurrency)


def _server_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    down = GaugeMetricFamily(
        "postino_smtp_server_down",
        "1 while the server is out of rotation (connection failures or quota spent).",
        labels=["server", "reason"],
    )
    down_seconds = GaugeMetricFamily(
        "postino_smtp_server_down_seconds",
        "Seconds until the server is back in rotation.",
        labels=["server"],
    )
    in_use = GaugeMetricFamily(
        "postino_smtp_connections_in_use",
        "Open connections to the server, across all workers.",
        labels=["server"],
    )
    max_connections = GaugeMetricFamily(
        "postino_smtp_connections_max", "Configured connection cap.", labels=["server"]
    )
    quota_used = GaugeMetricFamily(
        "postino_smtp_quota_used",
        "Messages counted in the server's current quota window (UTC hour or day).",
        labels=["server", "window"],
    )
    quota_limit = GaugeMetricFamily(
        "postino_smtp_quota_limit",
        "The window's limit (daily: with the warm-up ramp); absent when unlimited.",
        labels=["server", "window"],
    )
    rate = GaugeMetricFamily(
        "postino_smtp_send_rate",
        "Messages accepted per second through the server over the last minute.",
        labels=["server"],
    )
    rate_limit = GaugeMetricFamily(
        "postino_smtp_rate_limit", "Configured messages per second.", labels=["server"]
    )
    for server in snap.servers:
        labels = [server.name]
        state = server.state
        down.add_metric([*labels, state], 1.0 if state in {"down", "exhausted"} else 0.0)
        down_seconds.add_metric(labels, server.down_seconds)
        in_use.add_metric(labels, server.connections_in_use)
        max_connections.add_metric(labels, server.max_connections)
        quota_used.add_metric([*labels, "hour"], server.hour_used)
        quota_used.add_metric([*labels, "day"], server.day_used)
        if server.per_hour:
            quota_limit.add_metric([*labels, "hour"], server.per_hour)
        if server.effective_per_day:
            quota_limit.add_metric([*labels, "day"], server.effective_per_day)
        rate.add_metric(labels, server.rate)
        rate_limit.add_metric(labels, server.messages_per_second)
    yield from (down, down_seconds, in_use, max_connections, quota_used, quota_limit)
    yield from (rate, rate_limit)


def _domain_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    sent = GaugeMetricFamily(
        "postino_domain_sent_last_minute",
        "Messages accepted for the recipient domain in the last minute.",
        labels=["domain"],
    )
    limit = GaugeMetricFamily(
        "postino_domain_limit_per_minute", "The domain's configured limit.", labels=["domain"]
    )
    throttled = GaugeMetricFamily(
        "postino_domain_throttled",
        "1 while the domain's limiter would defer the next message.",
        labels=["domain"],
    )
    for domain in snap.domains:
        sent.add_metric([domain.domain], domain.sent_last_minute)
        limit.add_metric([domain.domain], domain.messages_per_minute)
        throttled.add_metric([domain.domain], 1.0 if domain.throttled else 0.0)
    yield from (sent, limit, throttled)


def _error_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    errors = GaugeMetricFamily(
        "postino_errors_last_hour",
        "Failed and deferred messages of the last hour by SMTP reply code "
        '("none": no reply, e.g. a timeout).',
        labels=["code", "outcome"],
    )
    for group in snap.errors:
        code = str(group.code) if group.code is not None else "none"
        errors.add_metric([code, "failed"], group.failed)
        errors.add_metric([code, "deferred"], group.deferred)
    yield errors


def _stage_metrics(snap: ops.Snapshot) -> Iterator[Metric]:
    if not snap.redis_ok:
        return
    seconds = CounterMetricFamily(
        "postino_stage_seconds",
        "Seconds spent by all workers in each stage of sending a chunk.",
        labels=["stage"],
    )
    for stage, total, _ in snap.stages.rows:
        seconds.add_metric([stage], total)
    attempts = CounterMetricFamily(
        "postino_smtp_attempts",
        "Messages handed to SMTP servers with an answer (any outcome), all workers.",
    )
    attempts.add_metric([], snap.stages.messages)
    yield from (seconds, attempts)


REGISTRY = CollectorRegistry(auto_describe=False)
REGISTRY.register(PostinoCollector())


def metrics_token() -> str:
    return str(settings.METRICS_TOKEN)


def _bearer(request: HttpRequest) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


def _unauthorized() -> HttpResponse:
    response = HttpResponse("Authentication required.\n", status=401, content_type="text/plain")
    response["WWW-Authenticate"] = 'Bearer realm="metrics"'
    return response


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    presented = _bearer(request)
    if presented is not None:
        expected = metrics_token()
        if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
            return HttpResponse("Invalid token.\n", status=403, content_type="text/plain")
    elif not request.user.is_authenticated:
        return _unauthorized()
    elif not is_team_member(request.user):
        return HttpResponse("Forbidden.\n", status=403, content_type="text/plain")
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encoder(REGISTRY), content_type=content_type)


# Included from postino/urls.py as ``path("metrics", include("postino.metrics"))``.
urlpatterns = [path("", metrics_view, name="metrics")]
