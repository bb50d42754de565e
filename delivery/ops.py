"""Reads for the live operations view and ``/metrics``: what is sending, how
fast, what is holding it back, and what is going wrong.

Every function costs a fixed number of SQL queries (and Redis round trips),
however many campaigns, servers, domains or workers there are, because the
page polls them every few seconds and Prometheus scrapes them too. The Redis
keys read here are the ones ``delivery.pipeline.gate``, ``delivery.pipeline.chunk`` and
``postino.worker_heartbeat`` write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import redis
from django.conf import settings
from django.db.models import Case, Count, F, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import StrIndex, Substr, TruncMinute
from django.utils import timezone

from campaigns import schedule
from campaigns.models import Campaign
from campaigns.selectors import stats_for_campaigns
from delivery.models import Delivery, DomainLimit, SmtpServer
from delivery.pipeline import breaker, gate
from delivery.pipeline.breaker import EVENTS_KEY, QUOTA_SPENT
from delivery.pipeline.chunk import STAGES_KEY
from delivery.pipeline.record import FLUSH_SECONDS
from delivery.pipeline.slots import ConnectionSlots
from postino import worker_heartbeat
from postino.jobs import TX_QUEUE
from postino.redis import as_text, redis_client
from transactional.models import TxMessage

RATE_WINDOW = timedelta(seconds=60)
LIVE_STATUSES = (Campaign.Status.RUNNING, Campaign.Status.PAUSED)
# Bounds on what one poll reads; beyond these the page says "and more".
MAX_CAMPAIGNS = 50
MAX_ERROR_CODES = 20
MAX_ERROR_DOMAINS = 20
EVENTS_SHOWN = 20
# The order a message goes through a chunk (see delivery.pipeline.chunk.ChunkRun).
STAGE_ORDER = (
    "audience", "setup", "control", "render", "gate", "throttled", "transmit", "ledger",
)  # fmt: skip


def _int(value: bytes | str | None) -> int:
    return int(as_text(value)) if value is not None else 0


# --- sending rates -------------------------------------------------------------

# Outcomes reach the ledger in batches (``delivery.pipeline.record``), up to
# FLUSH_SECONDS after the server answered: a send whose newest row is younger
# than this is taken to be still going.
LEDGER_LAG = timedelta(seconds=FLUSH_SECONDS + 1)
# The shortest span a rate is measured over, so the first messages of a send
# do not divide by almost nothing.
MIN_RATE_SPAN_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class RecentSends:
    """Messages accepted in the last RATE_WINDOW, and the first and last of them."""

    count: int = 0
    first: datetime | None = None
    last: datetime | None = None

    def rate(self, now: datetime) -> float:
        """Messages per second over the time they were sent in.

        Dividing by the whole window says 3 msg/s for a send that began 9 s
        ago at 20; so the span starts at the first message in the window. It
        ends at the last one recorded while the send is still going (the
        ledger lags by up to a flush), and at ``now`` once it has stopped, so
        the rate of a paused or finished send falls away over the window.
        """
        if not self.count or self.first is None or self.last is None:
            return 0.0
        start = max(self.first, now - RATE_WINDOW)
        end = self.last if now - self.last <= LEDGER_LAG else now
        return self.count / max((end - start).total_seconds(), MIN_RATE_SPAN_SECONDS)


def recent_sends_by(rows: QuerySet[Delivery], key: str, *, now: datetime) -> dict[int, RecentSends]:
    """RecentSends per ``key`` (campaign, server) in one grouped query (the sent_at index)."""
    grouped = (
        rows.filter(sent_at__gte=now - RATE_WINDOW)
        .order_by()
        .values_list(key)
        .annotate(n=Count("id"), first=Min("sent_at"), last=Max("sent_at"))
        .values_list(key, "n", "first", "last")
    )
    return {group: RecentSends(n, first, last) for group, n, first, last in grouped}


def recent_sends(*, now: datetime | None = None) -> RecentSends:
    """RecentSends across all campaigns (one query)."""
    now = now or timezone.now()
    found = Delivery.objects.filter(sent_at__gte=now - RATE_WINDOW).aggregate(
        n=Count("id"), first=Min("sent_at"), last=Max("sent_at")
    )
    return RecentSends(found["n"], found["first"], found["last"])


# --- campaigns -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CampaignOverview:
    id: int
    name: str
    status: str
    status_label: str
    total: int
    sent: int
    failed: int
    pending: int
    sent_last_minute: int
    retry_backlog: int
    rate: float  # messages accepted per second (RecentSends.rate)

    @property
    def eta_seconds(self) -> float | None:
        """Time left at the current rate; None when nothing is moving."""
        if not self.pending:
            return 0.0
        if self.status != Campaign.Status.RUNNING or self.rate <= 0:
            return None
        return self.pending / self.rate

    @property
    def percent(self) -> int:
        return round(100 * (self.sent + self.failed) / self.total) if self.total else 0


def running_campaigns_overview(*, now: datetime | None = None) -> list[CampaignOverview]:
    """Running and paused campaigns: counts, rate, ETA, retry backlog (4 queries)."""
    now = now or timezone.now()
    campaigns = list(
        Campaign.objects.filter(status__in=LIVE_STATUSES)
        .order_by("-started_at", "-id")
        .only("id", "name", "status")[:MAX_CAMPAIGNS]
    )
    if not campaigns:
        return []
    ids = [campaign.pk for campaign in campaigns]
    stats = stats_for_campaigns(ids)
    # Both use the (campaign, sent_at) and (campaign, status, id) indexes.
    recent = recent_sends_by(Delivery.objects.filter(campaign_id__in=ids), "campaign_id", now=now)
    backlog = dict(
        Delivery.objects.filter(
            campaign_id__in=ids, status=Delivery.Status.PENDING, next_attempt_at__gt=now
        )
        .order_by()
        .values_list("campaign_id")
        .annotate(n=Count("id"))
        .values_list("campaign_id", "n")
    )
    return [
        CampaignOverview(
            id=campaign.pk,
            name=campaign.name,
            status=campaign.status,
            status_label=campaign.get_status_display(),
            sent_last_minute=recent.get(campaign.pk, RecentSends()).count,
            rate=recent.get(campaign.pk, RecentSends()).rate(now),
            retry_backlog=backlog.get(campaign.pk, 0),
            **stats[campaign.pk],
        )
        for campaign in campaigns
    ]


@dataclass(frozen=True, slots=True)
class ScheduledCampaign:
    id: int
    name: str
    scheduled_at: datetime | None
    starts_in: float | None  # seconds; 0 once due (the scheduler picks it up shortly)
    # As it was chosen: "2027-03-01 09:00 Europe/Berlin (08:00 UTC)".
    starts_label: str = ""


def scheduled_campaigns(*, now: datetime | None = None) -> list[ScheduledCampaign]:
    """Campaigns waiting for their start time, soonest first (1 query).

    They have no ledger rows yet (the audience is snapshotted when they
    start), so there is nothing to count: the page says when they begin.
    """
    rows = (
        Campaign.objects.filter(status=Campaign.Status.SCHEDULED)
        .order_by(F("scheduled_at").asc(nulls_last=True), "id")
        .values_list("id", "name", "scheduled_at", "schedule_timezone")[:MAX_CAMPAIGNS]
    )
    now = now or timezone.now()
    return [
        ScheduledCampaign(
            id=pk,
            name=name,
            scheduled_at=at,
            starts_in=None if at is None else max(0.0, (at - now).total_seconds()),
            starts_label="" if at is None else schedule.describe(at, zone),
        )
        for pk, name, at, zone in rows
    ]


# --- sending channels: SMTP servers and ESP APIs ------------------------------------


@dataclass(frozen=True, slots=True)
class ServerOverview:
    id: int
    name: str
    kind: str  # SmtpServer.Kind: "smtp" or "esp"
    kind_label: str  # "SMTP" or the ESP's name ("Postmark")
    messages_per_second: float
    per_hour: int | None
    per_day: int | None  # as configured
    effective_per_day: int | None  # with the warm-up ramp
    warming_up: bool
    hour_used: int
    day_used: int
    down_reason: str
    down_seconds: float
    pacing: bool  # its rate limiter makes the next message wait
    connections_in_use: int
    max_connections: int
    sent_last_minute: int
    rate: float  # messages accepted per second (RecentSends.rate)

    @property
    def state(self) -> str:
        """ok, pacing, exhausted (quota spent) or down (connection failures)."""
        if self.down_seconds > 0:
            return "exhausted" if self.down_reason == QUOTA_SPENT else "down"
        return "pacing" if self.pacing else "ok"


def servers_overview(*, now: datetime | None = None) -> list[ServerOverview]:
    """Every sending channel (SMTP servers and ESP APIs alike: the gate, the
    breaker and the connection slots treat both the same) with its limits and
    live state (2 queries, 1 Redis round trip)."""
    now = now or timezone.now()
    servers = list(SmtpServer.objects.order_by("name"))
    if not servers:
        return []
    recent = recent_sends_by(
        Delivery.objects.filter(smtp_server__isnull=False), "smtp_server_id", now=now
    )
    utc_now = now.astimezone(UTC)
    # One pipeline for all servers, reading the keys the gate and breaker write.
    pipe = redis_client().pipeline(transaction=False)
    pipe.time()
    for server in servers:
        hour_key, day_key, _, _ = gate.quota_window_keys(server.pk, utc_now)
        down_key = breaker.server_down_key(server.pk)
        pipe.get(hour_key)
        pipe.get(day_key)
        pipe.get(down_key)
        pipe.pttl(down_key)
        pipe.get(f"{gate.PREFIX}:rate:smtp:{server.pk}")
        pipe.zcount(
            ConnectionSlots(server.pk, server.max_connections).key,
            utc_now.timestamp() * 1000,
            "+inf",
        )
    replies = pipe.execute()
    redis_now_ms = _redis_ms(replies[0])
    today = utc_now.date()
    overviews = []
    for index, server in enumerate(servers):
        hour, day, reason, pttl, tat, in_use = replies[1 + index * 6 : 7 + index * 6]
        effective = gate.warmup_daily_limit(server, today)
        down_seconds = int(pttl) / 1000.0 if reason is not None and int(pttl) > 0 else 0.0
        overviews.append(
            ServerOverview(
                id=server.pk,
                name=server.name,
                kind=server.kind,
                kind_label=server.esp_label if server.kind == SmtpServer.Kind.ESP else "SMTP",
                messages_per_second=server.messages_per_second,
                per_hour=server.messages_per_hour,
                per_day=server.messages_per_day,
                effective_per_day=effective,
                warming_up=bool(server.warmup_start_per_day and server.warmup_started_on)
                and effective != server.messages_per_day,
                hour_used=_int(hour),
                day_used=_int(day),
                down_reason=as_text(reason) if reason is not None else "",
                down_seconds=down_seconds,
                pacing=tat is not None and float(as_text(tat)) > redis_now_ms,
                connections_in_use=int(in_use),
                max_connections=server.max_connections,
                sent_last_minute=recent.get(server.pk, RecentSends()).count,
                rate=recent.get(server.pk, RecentSends()).rate(now),
            )
        )
    return overviews


def _redis_ms(time_reply: Sequence[int]) -> float:
    """Redis's clock in milliseconds: the limiters store times on that clock."""
    seconds, micros = time_reply
    return int(seconds) * 1000 + int(micros) / 1000


# --- recipient domains -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainOverview:
    domain: str
    messages_per_minute: int
    sent_last_minute: int
    throttled_for: float  # seconds until its limiter lets the next message through

    @property
    def throttled(self) -> bool:
        return self.throttled_for > 0

    @property
    def percent_of_limit(self) -> int:
        return min(100, round(100 * self.sent_last_minute / self.messages_per_minute))


def domains_overview(*, now: datetime | None = None) -> list[DomainOverview]:
    """Each domain limit, what was sent to it in the last minute, and whether it
    is throttled now (2 queries, 1 Redis round trip)."""
    now = now or timezone.now()
    limits = list(
        DomainLimit.objects.order_by("domain").values_list("domain", "messages_per_minute")
    )
    if not limits:
        return []
    domains = [domain for domain, _ in limits]
    # One query: a CASE names the configured domain each recent row went to
    # (the same test the sender applies: the part after the last "@").
    domain_of = Case(
        *(When(subscriber__email__endswith=f"@{domain}", then=Value(domain)) for domain in domains),
        default=None,
    )
    sent = dict(
        Delivery.objects.filter(sent_at__gte=now - RATE_WINDOW)
        .annotate(domain=domain_of)
        .filter(domain__isnull=False)
        .order_by()
        .values_list("domain")
        .annotate(n=Count("id"))
        .values_list("domain", "n")
    )
    pipe = redis_client().pipeline(transaction=False)
    pipe.time()
    for domain in domains:
        pipe.get(f"{gate.PREFIX}:rate:domain:{domain}")
    replies = pipe.execute()
    redis_now_ms = _redis_ms(replies[0])
    result = []
    for (domain, per_minute), tat in zip(limits, replies[1:], strict=True):
        wait_ms = float(as_text(tat)) - redis_now_ms if tat is not None else 0.0
        result.append(
            DomainOverview(
                domain=domain,
                messages_per_minute=per_minute,
                sent_last_minute=sent.get(domain, 0),
                throttled_for=max(0.0, wait_ms / 1000.0),
            )
        )
    return result


# --- the Celery queue and the workers ----------------------------------------------

# kombu's Redis transport keeps priorities 3, 6 and 9 in lists named
# "<queue>\x06\x16<priority>"; priority 0 (the default) is the queue's own name.
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)


@dataclass(frozen=True, slots=True)
class QueueDepth:
    name: str
    waiting: int  # messages in the broker's list, not yet taken by a worker
    unacked: int  # taken by a worker (running or prefetched), not yet acknowledged


@cache
def _broker_client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def broker_client() -> redis.Redis:
    url = settings.CELERY_BROKER_URL
    return redis_client() if url == settings.REDIS_URL else _broker_client(url)


def queue_depth(name: str = "") -> QueueDepth:
    """LLEN of a Celery queue (the default one unless named) in the broker,
    and the broker's unacknowledged messages."""
    name = name or settings.CELERY_TASK_DEFAULT_QUEUE
    pipe = broker_client().pipeline(transaction=False)
    pipe.llen(name)
    for step in _PRIORITY_STEPS:
        pipe.llen(f"{name}{_PRIORITY_SEPARATOR}{step}")
    pipe.hlen("unacked")
    *lengths, unacked = pipe.execute()
    return QueueDepth(name=name, waiting=sum(int(n) for n in lengths), unacked=int(unacked))


@dataclass(frozen=True, slots=True)
class TransactionalOverview:
    waiting: int  # due now: queued, or deferred and due again
    sending: int
    # How long the longest-waiting due message has waited (0: none waits).
    oldest_wait_seconds: float
    sent_last_hour: int
    queue: QueueDepth | None  # the postino-tx queue; None: broker unreachable

    @property
    def stuck(self) -> bool:
        """Waiting far longer than a transactional worker ever lets it: none runs."""
        return self.oldest_wait_seconds > TX_STUCK_SECONDS


# Transactional mail goes within a second; a minute means no worker takes it.
TX_STUCK_SECONDS = 60.0


def transactional_overview(*, now: datetime) -> TransactionalOverview:
    Status = TxMessage.Status
    is_due = Q(status__in=[Status.QUEUED, Status.DEFERRED], next_attempt_at__lte=now)
    # The open rows are few among the log's millions: both partial indexes answer.
    due = TxMessage.objects.filter(is_due | Q(status=Status.SENDING)).aggregate(
        count=Count("id", filter=is_due),
        oldest=Min("next_attempt_at", filter=is_due),
        sending=Count("id", filter=Q(status=Status.SENDING)),
    )
    sent = TxMessage.objects.filter(
        created_at__gte=now - timedelta(hours=1), status=Status.SENT
    ).count()
    try:
        queue: QueueDepth | None = queue_depth(TX_QUEUE)
    except redis.RedisError:
        queue = None
    oldest = due["oldest"]
    return TransactionalOverview(
        waiting=int(due["count"] or 0),
        sending=int(due["sending"] or 0),
        oldest_wait_seconds=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
        sent_last_hour=sent,
        queue=queue,
    )


def workers() -> list[worker_heartbeat.Heartbeat]:
    """Live Celery workers, from their heartbeats (see postino.worker_heartbeat)."""
    return worker_heartbeat.read_heartbeats()


# --- errors and events --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    code: int | None  # None: no SMTP reply (timeout, refused connection, template)
    count: int
    failed: int
    deferred: int
    last_at: datetime
    sample_reply: str


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime | None
    kind: str
    message: str


@dataclass(frozen=True, slots=True)
class ErrorDomain:
    domain: str  # the recipient's domain: the part of the address after the @
    count: int
    failed: int
    deferred: int
    last_at: datetime


def _recent_trouble(since: datetime) -> QuerySet[Delivery]:
    """Failed rows, and deferred rows with an SMTP code, updated since ``since``.

    The condition is the one of the partial index ``delivery_trouble_idx``
    word for word, so the database reads only the window's rows of that
    index, however many millions of rows the ledger holds.
    """
    return (
        Delivery.objects.filter(updated_at__gte=since)
        .filter(
            Q(status=Delivery.Status.FAILED)
            | Q(status=Delivery.Status.PENDING, smtp_code__isnull=False)
        )
        .order_by()
    )


def recent_errors(hours: int = 1, *, now: datetime | None = None) -> list[ErrorGroup]:
    """Failed rows, and deferred rows with an SMTP code, updated in the last
    ``hours``, grouped by reply code, biggest group first (2 queries)."""
    now = now or timezone.now()
    groups = list(
        _recent_trouble(now - timedelta(hours=hours))
        .values("smtp_code")
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
            last_at=Max("updated_at"),
            sample_id=Max("id"),
        )
        .order_by("-n", "smtp_code")[:MAX_ERROR_CODES]
    )
    samples = dict(
        Delivery.objects.filter(pk__in=[group["sample_id"] for group in groups]).values_list(
            "id", "smtp_reply"
        )
    )
    return [
        ErrorGroup(
            code=group["smtp_code"],
            count=group["n"],
            failed=group["failed"],
            deferred=group["n"] - group["failed"],
            last_at=group["last_at"],
            sample_reply=samples.get(group["sample_id"], ""),
        )
        for group in groups
    ]


def recent_error_domains(hours: int = 1, *, now: datetime | None = None) -> list[ErrorDomain]:
    """The same rows as ``recent_errors``, grouped by recipient domain, the
    MAX_ERROR_DOMAINS biggest first (1 query, at most that many rows back).

    The domain is cut from the subscriber's address in SQL (the part after the
    "@"; addresses are stored lower-case), so the database groups and only the
    top rows travel.
    """
    now = now or timezone.now()
    email = "subscriber__email"
    rows = (
        _recent_trouble(now - timedelta(hours=hours))
        .annotate(domain=Substr(email, StrIndex(email, Value("@")) + 1))
        .values("domain")
        .annotate(
            n=Count("id"),
            failed=Count("id", filter=Q(status=Delivery.Status.FAILED)),
            last_at=Max("updated_at"),
        )
        .order_by("-n", "domain")[:MAX_ERROR_DOMAINS]
    )
    return [
        ErrorDomain(
            domain=row["domain"],
            count=row["n"],
            failed=row["failed"],
            deferred=row["n"] - row["failed"],
            last_at=row["last_at"],
        )
        for row in rows
    ]


def recent_events(limit: int = EVENTS_SHOWN) -> list[Event]:
    """The last connection and quota events recorded by the chunks, newest first."""
    events = []
    for raw in redis_client().lrange(EVENTS_KEY, 0, limit - 1):
        stamp, _, rest = as_text(raw).partition(" ")
        kind, _, message = rest.partition(" ")
        try:
            at: datetime | None = datetime.fromisoformat(stamp)
        except ValueError:
            at, kind, message = None, "", as_text(raw)
        events.append(Event(at=at, kind=kind, message=message))
    return events


# --- where the time goes, and throughput -------------------------------------------


@dataclass(frozen=True, slots=True)
class StageCost:
    stage: str
    seconds: float  # in total, since the counters were last reset

    def micros_per_message(self, messages: int) -> float:
        return self.seconds * 1_000_000 / messages if messages else 0.0


@dataclass(frozen=True, slots=True)
class StageCosts:
    messages: int
    stages: list[StageCost]

    @property
    def rows(self) -> list[tuple[str, float, float]]:
        """(stage, total seconds, µs per message), in pipeline order."""
        return [
            (cost.stage, cost.seconds, cost.micros_per_message(self.messages))
            for cost in self.stages
        ]

    @property
    def total_micros_per_message(self) -> float:
        return sum(cost.micros_per_message(self.messages) for cost in self.stages)


def stage_costs() -> StageCosts:
    """Seconds per chunk stage, summed by every worker (``StageClock.publish``)."""
    raw = {as_text(k): as_text(v) for k, v in redis_client().hgetall(STAGES_KEY).items()}
    messages = int(float(raw.pop("messages", "0")))
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    stages = sorted(
        (StageCost(stage=stage, seconds=float(value)) for stage, value in raw.items()),
        key=lambda cost: (order.get(cost.stage, len(order)), cost.stage),
    )
    return StageCosts(messages=messages, stages=stages)


def throughput_per_minute(
    minutes: int = 60, *, now: datetime | None = None
) -> list[tuple[datetime, int]]:
    """Messages accepted per minute across all campaigns, every minute present."""
    if minutes <= 0:
        return []
    end = (now or timezone.now()).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=minutes - 1)
    counts = dict(
        Delivery.objects.filter(sent_at__gte=start)
        .annotate(minute=TruncMinute("sent_at"))
        .order_by()
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    return [
        (start + timedelta(minutes=i), counts.get(start + timedelta(minutes=i), 0))
        for i in range(minutes)
    ]


# --- everything at once ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Snapshot:
    at: datetime
    campaigns: list[CampaignOverview]
    scheduled: list[ScheduledCampaign]
    servers: list[ServerOverview]
    domains: list[DomainOverview]
    queue: QueueDepth | None  # None: the broker is unreachable
    workers: list[worker_heartbeat.Heartbeat]
    errors: list[ErrorGroup]
    error_domains: list[ErrorDomain]
    events: list[Event]
    stages: StageCosts
    throughput: list[tuple[datetime, int]]
    sent_last_minute: int
    sending_rate: float  # messages accepted per second, all campaigns
    redis_ok: bool
    transactional: TransactionalOverview

    @property
    def retry_backlog(self) -> int:
        return sum(campaign.retry_backlog for campaign in self.campaigns)


def snapshot(*, throughput_minutes: int = 60) -> Snapshot:
    """All of the above for one moment; Redis being away degrades, not breaks, it.

    ``throughput_minutes=0`` leaves the per-minute series out (one query less).
    """
    now = timezone.now()
    campaigns = running_campaigns_overview(now=now)
    scheduled = scheduled_campaigns(now=now)
    errors = recent_errors(now=now)
    error_domains = recent_error_domains(now=now)
    throughput = throughput_per_minute(throughput_minutes, now=now)
    sent_recently = recent_sends(now=now)
    try:
        servers = servers_overview(now=now)
        domains = domains_overview(now=now)
        live_workers = workers()
        events = recent_events()
        stages = stage_costs()
        redis_ok = True
    except redis.RedisError:
        servers, domains, live_workers, events = [], [], [], []
        stages = StageCosts(messages=0, stages=[])
        redis_ok = False
    try:
        queue: QueueDepth | None = queue_depth()
    except redis.RedisError:
        queue = None
    return Snapshot(
        at=now,
        campaigns=campaigns,
        scheduled=scheduled,
        servers=servers,
        domains=domains,
        queue=queue,
        workers=live_workers,
        errors=errors,
        error_domains=error_domains,
        events=events,
        stages=stages,
        throughput=throughput,
        sent_last_minute=sent_recently.count,
        sending_rate=sent_recently.rate(now),
        redis_ok=redis_ok,
        transactional=transactional_overview(now=now),
    )
