"""Traffic shaping shared by every worker on every machine, kept in Redis.

One Lua script (``gate``) runs before each message and, atomically:

* journals the outcome of the previous message of the chunk (see
  ``delivery.ledger``), so a worker killed now loses at most the message in
  flight;
* stops the chunk when its campaign was paused or cancelled (the stop key
  ``pause_campaign``/``cancel_campaign`` set), so a pause bites before the next
  message rather than at the next status check;
* enforces the SMTP server's hourly and daily quota (fixed UTC windows; the
  daily one follows the warm-up ramp);
* enforces the recipient domain's limit: a throttled domain *defers* that
  recipient and the chunk moves on to others;
* enforces the server's messages per second (GCRA: only the "theoretical
  arrival time" is stored): the worker *waits* its turn;
* marks the message in flight.

Redis's own clock is used so worker clocks need not agree. Server health
(down after connection failures, quota exhausted) and the global cap on open
connections per server live here too.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING

import redis

from postino.redis import as_text, redis_client

if TYPE_CHECKING:
    from delivery.models import SmtpServer

log = logging.getLogger(__name__)

PREFIX = "postino"
JOURNAL_TTL_SECONDS = 24 * 3600

_GATE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local journal_ttl = tonumber(ARGV[9])
if ARGV[7] ~= '' then
  redis.call('RPUSH', KEYS[5], ARGV[7])
  redis.call('EXPIRE', KEYS[5], journal_ttl)
end
if ARGV[12] == '1' and redis.call('EXISTS', KEYS[7]) == 1 then
  return {'stop', '0'}
end
local hour_limit = tonumber(ARGV[3])
local day_limit = tonumber(ARGV[4])
if hour_limit > 0 and tonumber(redis.call('GET', KEYS[2]) or '0') >= hour_limit then
  return {'quota', tostring(redis.call('PTTL', KEYS[2]))}
end
if day_limit > 0 and tonumber(redis.call('GET', KEYS[3]) or '0') >= day_limit then
  return {'quota', tostring(redis.call('PTTL', KEYS[3]))}
end
local dom_interval = tonumber(ARGV[5])
local dom_tat = now
if dom_interval > 0 then
  dom_tat = tonumber(redis.call('GET', KEYS[4]) or now)
  if dom_tat < now then dom_tat = now end
  local dom_allow = dom_tat - tonumber(ARGV[6])
  if now < dom_allow then return {'domain', tostring(dom_allow - now)} end
end
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow = tat - tonumber(ARGV[2])
if now < allow then return {'wait', tostring(allow - now)} end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 1000)
if dom_interval > 0 then
  redis.call('SET', KEYS[4], tostring(dom_tat + dom_interval), 'PX',
             math.ceil(dom_tat + dom_interval - now) + 1000)
end
if hour_limit > 0 then
  redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[10])
end
if day_limit > 0 then
  redis.call('INCR', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[11])
end
redis.call('SET', KEYS[6], ARGV[8], 'EX', journal_ttl)
return {'ok', '0'}
"""

# A sorted set of open connections per server, scored by expiry: a slot held
# by a worker that died frees itself when its expiry passes.
_ACQUIRE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return 1
"""

SLOT_TTL_MS = 120_000


class Verdict(StrEnum):
    OK = "ok"
    WAIT = "wait"  # the server's per-second rate: wait, then ask again
    DOMAIN = "domain"  # the recipient's domain is at its limit: defer this one
    QUOTA = "quota"  # the server's hourly/daily budget is spent: defer the rest
    STOP = "stop"  # the campaign was paused or cancelled: send nothing more


@dataclass(frozen=True, slots=True)
class GateResult:
    verdict: Verdict
    wait_ms: float


def warmup_daily_limit(server: SmtpServer, today: date) -> int | None:
    """The day's cap from the warm-up ramp, combined with the fixed daily cap."""
    limits = []
    if server.messages_per_day:
        limits.append(server.messages_per_day)
    if server.warmup_start_per_day and server.warmup_started_on:
        days = max(0, (today - server.warmup_started_on).days)
        # Cap the exponent: beyond a few dozen doublings the ramp is moot.
        ramp = server.warmup_start_per_day * server.warmup_growth_factor ** min(days, 60)
        limits.append(int(min(ramp, 2**31)))
    return min(limits) if limits else None


@dataclass(frozen=True, slots=True)
class ServerLimits:
    server_id: int
    interval_ms: float
    burst_ms: float
    per_hour: int
    per_day: int

    @classmethod
    def for_server(cls, server: SmtpServer, *, today: date | None = None) -> ServerLimits:
        today = today or datetime.now(UTC).date()
        interval = 1000.0 / server.messages_per_second
        return cls(
            server_id=server.pk,
            interval_ms=interval,
            burst_ms=0.0,
            per_hour=server.messages_per_hour or 0,
            per_day=warmup_daily_limit(server, today) or 0,
        )


def quota_window_keys(server_id: int, now: datetime) -> tuple[str, str, int, int]:
    """The hourly and daily quota counters' keys at ``now``, and their TTLs (ms)."""
    hour_end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    day_end = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    hour_key = f"{PREFIX}:quota:{server_id}:h:{now:%Y%m%d%H}"
    day_key = f"{PREFIX}:quota:{server_id}:d:{now:%Y%m%d}"
    hour_ttl = math.ceil((hour_end - now).total_seconds() * 1000) + 1000
    day_ttl = math.ceil((day_end - now).total_seconds() * 1000) + 1000
    return hour_key, day_key, hour_ttl, day_ttl


@lru_cache(maxsize=1)
def _domain_limits_cached(version: int) -> dict[str, int]:
    from delivery.models import DomainLimit

    del version
    return dict(DomainLimit.objects.values_list("domain", "messages_per_minute"))


def domain_limits() -> dict[str, int]:
    """Domain → messages per minute; re-read from the database every 30 seconds.

    A changed limit therefore reaches every worker within half a minute.
    """
    return _domain_limits_cached(int(time.monotonic() // 30))


def forget_domain_limits() -> None:
    """Drop this process's copy (after an edit, and between tests)."""
    _domain_limits_cached.cache_clear()


class Gate:
    """Per-chunk handle on the shared limits of one server."""

    def __init__(
        self, limits: ServerLimits, *, claim: uuid.UUID, campaign_id: int | None = None
    ) -> None:
        self.limits = limits
        self.claim = claim
        self._stop_key = stop_key(campaign_id) if campaign_id is not None else ""
        self._script = redis_client().register_script(_GATE)
        self._domains = domain_limits()
        self._sec_key = f"{PREFIX}:rate:smtp:{limits.server_id}"
        self._journal_key = journal_key(claim)
        self._inflight_key = inflight_key(claim)

    def check(self, *, domain: str, inflight: str, journal_entry: str = "") -> GateResult:
        per_minute = self._domains.get(domain, 0)
        dom_interval = 60_000.0 / per_minute if per_minute else 0.0
        hour_key, day_key, hour_ttl, day_ttl = quota_window_keys(
            self.limits.server_id, datetime.now(UTC)
        )
        verdict, wait = self._script(
            keys=[
                self._sec_key,
                hour_key,
                day_key,
                f"{PREFIX}:rate:domain:{domain}",
                self._journal_key,
                self._inflight_key,
                self._stop_key or self._inflight_key,
            ],
            args=[
                self.limits.interval_ms,
                self.limits.burst_ms,
                self.limits.per_hour,
                self.limits.per_day,
                dom_interval,
                0,
                journal_entry,
                inflight,
                JOURNAL_TTL_SECONDS,
                hour_ttl,
                day_ttl,
                "1" if self._stop_key else "0",
            ],
        )
        return GateResult(Verdict(as_text(verdict)), float(as_text(wait)))


def journal_key(claim: uuid.UUID) -> str:
    return f"{PREFIX}:journal:{claim}"


def inflight_key(claim: uuid.UUID) -> str:
    return f"{PREFIX}:inflight:{claim}"


# --- stopping a campaign's chunks ------------------------------------------------

# Outlives any pause worth keeping the key for; a stale key is harmless anyway
# (the chunk checks the database before obeying it, see delivery.chunk).
STOP_TTL_SECONDS = 7 * 24 * 3600


def stop_key(campaign_id: int) -> str:
    """Present while the campaign's chunks must not send another message."""
    return f"{PREFIX}:campaign:{campaign_id}:stop"


def request_stop(campaign_id: int) -> None:
    """Tell every chunk of the campaign to stop before its next message.

    Without Redis the chunks still notice the status in the database within
    ``STATUS_CHECK_SECONDS``; the pause itself must not fail for that.
    """
    try:
        redis_client().set(stop_key(campaign_id), "1", ex=STOP_TTL_SECONDS)
    except redis.RedisError as exc:
        log.warning("campaign %s: could not set its stop key (%s)", campaign_id, exc)


def clear_stop(campaign_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(stop_key(campaign_id))


# --- server health ------------------------------------------------------------


def server_down_key(server_id: int) -> str:
    """Present (with the reason) while the server is out of rotation."""
    return f"{PREFIX}:server:{server_id}:down"


def _failures_key(server_id: int) -> str:
    return f"{PREFIX}:server:{server_id}:failures"


def mark_server_down(server_id: int, reason: str) -> float:
    """Take a server out of rotation with a growing back-off; returns seconds."""
    try:
        client = redis_client()
        failures = int(client.incr(_failures_key(server_id)))
        client.expire(_failures_key(server_id), 3600)
        seconds = min(30.0 * 2 ** (failures - 1), 600.0)
        client.set(server_down_key(server_id), reason[:300], px=int(seconds * 1000))
        return seconds
    except redis.RedisError:
        return 30.0


def mark_server_up(server_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(_failures_key(server_id), server_down_key(server_id))


def mark_server_exhausted(server_id: int, milliseconds: float) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().set(
            server_down_key(server_id),
            "hourly or daily quota spent",
            px=max(1000, int(milliseconds)),
        )


def server_unavailable_for(server_id: int) -> float:
    """Seconds until the server is back in rotation (0 if it is available)."""
    try:
        ttl = int(redis_client().pttl(server_down_key(server_id)))
    except redis.RedisError:
        return 0.0
    return ttl / 1000.0 if ttl > 0 else 0.0


def server_down_reason(server_id: int) -> str:
    try:
        value = redis_client().get(server_down_key(server_id))
    except redis.RedisError:
        return ""
    return as_text(value) if value else ""


# --- connections across workers ------------------------------------------------


class ConnectionSlots:
    """The cap on open connections to one server across every worker."""

    def __init__(self, server_id: int, maximum: int) -> None:
        self.key = f"{PREFIX}:connections:{server_id}"
        self.maximum = maximum
        self._script = redis_client().register_script(_ACQUIRE_SLOT)

    def acquire(self, member: str) -> bool:
        """Take (or refresh) a slot for ``member``; False when all are taken."""
        try:
            return bool(self._script(keys=[self.key], args=[self.maximum, member, SLOT_TTL_MS]))
        except redis.RedisError:
            # Without Redis we cannot count other workers; the per-process cap
            # still holds, and sending beats stalling.
            return True

    def release(self, member: str) -> None:
        with contextlib.suppress(redis.RedisError):
            redis_client().zrem(self.key, member)

    def in_use(self) -> int:
        try:
            return int(redis_client().zcount(self.key, time.time() * 1000, "+inf"))
        except redis.RedisError:
            return 0
