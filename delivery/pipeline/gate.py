"""The gate: the one Redis round trip every message passes before it is sent.

One Lua script (``_GATE``) runs atomically for a batch of up to
``ADMIT_BATCH`` messages (``Gate.admit``; one for ``Gate.check``) and:

* journals the outcomes of messages that finished since the last call (see
  ``delivery.pipeline.record``) and takes them off the claim's in-flight set,
  so a worker killed now loses only what is still on the wire;
* stops the chunk when its campaign was paused or cancelled (the stop key
  ``pause_campaign``/``cancel_campaign`` set), so a pause bites before the next
  batch rather than at the next status check;
* enforces the server's hourly and daily quota (fixed UTC windows; the daily
  one follows the warm-up ramp);
* enforces each recipient domain's limit: a throttled domain *defers* that
  recipient and the chunk moves on to others;
* enforces the server's messages per second (GCRA: only the "theoretical
  arrival time" is stored), granting each message a turn at most a few
  milliseconds ahead; the first that would wait longer ends the batch and
  the chunk *waits*;
* adds the admitted messages to the claim's in-flight set;
* counts the chunks sharing the server's connections, for their fair share;
* for transactional mail (``priority_share``), books turns further ahead
  than chunks do, so it takes the server's next turn before the next chunk
  message, and while chunks send through the server keeps to its share of
  the rate (a second GCRA), so bulk keeps the rest.

Every worker on every machine goes through the same keys, so the limits hold
however many processes and connections send at once. Redis's own clock is
used so worker clocks need not agree. Test sends and confirmation emails go
through the same gate without a claim (no journal, no in-flight set).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
import uuid
from collections.abc import Sequence
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
local journal_ttl = tonumber(ARGV[5])
local items = tonumber(ARGV[11])
local entries = tonumber(ARGV[12])
local base = 14 + 2 * items
if entries > 0 then
  for i = 1, entries do
    redis.call('RPUSH', KEYS[4], ARGV[base + i])
    redis.call('SREM', KEYS[5], ARGV[base + entries + i])
  end
  redis.call('EXPIRE', KEYS[4], journal_ttl)
end
if ARGV[8] == '1' and redis.call('EXISTS', KEYS[6]) == 1 then
  return {'stop', '0'}
end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local hour_limit = tonumber(ARGV[3])
local day_limit = tonumber(ARGV[4])
local horizon = tonumber(ARGV[10])
local tracked = ARGV[9] == '1'
local hour_used = 0
local day_used = 0
if hour_limit > 0 then hour_used = tonumber(redis.call('GET', KEYS[2]) or '0') end
if day_limit > 0 then day_used = tonumber(redis.call('GET', KEYS[3]) or '0') end
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
-- Transactional mail (ARGV[14], its own interval, > 0) takes the same turns,
-- and while chunks send through the server (KEYS[7]) keeps to its share of
-- the rate: a second GCRA at KEYS[8].
local tx_interval = tonumber(ARGV[14])
local priority = tx_interval > 0
local bulk_sending = false
local tx_tat = now
if priority then
  bulk_sending = redis.call('ZCOUNT', KEYS[7], now, '+inf') > 0
  tx_tat = tonumber(redis.call('GET', KEYS[8]) or now)
  if tx_tat < now then tx_tat = now end
end
-- Until the window's counter exists (this batch spent it), its full TTL.
local function window_left(key, ttl)
  local left = redis.call('PTTL', key)
  if left < 0 then return tonumber(ttl) end
  return left
end
local granted = 0
local answer = {}
for i = 1, items do
  if hour_limit > 0 and hour_used >= hour_limit then
    answer[#answer + 1] = 'quota'
    answer[#answer + 1] = tostring(window_left(KEYS[2], ARGV[6]))
    break
  end
  if day_limit > 0 and day_used >= day_limit then
    answer[#answer + 1] = 'quota'
    answer[#answer + 1] = tostring(window_left(KEYS[3], ARGV[7]))
    break
  end
  local at = tat
  if bulk_sending and tx_tat > at then at = tx_tat end
  local offset = at - burst - now
  if offset < 0 then offset = 0 end
  if offset > horizon then
    answer[#answer + 1] = 'wait'
    answer[#answer + 1] = tostring(offset)
    break
  end
  local dom_interval = tonumber(ARGV[13 + 2 * i])
  local dom_tat = now
  if dom_interval > 0 then
    dom_tat = tonumber(redis.call('GET', KEYS[8 + i]) or now)
    if dom_tat < now then dom_tat = now end
  end
  if now < dom_tat then
    answer[#answer + 1] = 'domain'
    answer[#answer + 1] = tostring(dom_tat - now)
  else
    if dom_interval > 0 then
      redis.call('SET', KEYS[8 + i], tostring(dom_tat + dom_interval), 'PX',
                 math.ceil(dom_tat + dom_interval - now) + 1000)
    end
    tat = at + interval
    if priority then tx_tat = at + tx_interval end
    granted = granted + 1
    hour_used = hour_used + 1
    day_used = day_used + 1
    if tracked then redis.call('SADD', KEYS[5], ARGV[14 + 2 * i]) end
    answer[#answer + 1] = 'ok'
    answer[#answer + 1] = tostring(offset)
  end
end
if granted > 0 then
  redis.call('SET', KEYS[1], tostring(tat), 'PX', math.ceil(tat - now) + 1000)
  if hour_limit > 0 then
    redis.call('INCRBY', KEYS[2], granted)
    redis.call('PEXPIRE', KEYS[2], ARGV[6])
  end
  if day_limit > 0 then
    redis.call('INCRBY', KEYS[3], granted)
    redis.call('PEXPIRE', KEYS[3], ARGV[7])
  end
  if tracked then redis.call('EXPIRE', KEYS[5], journal_ttl) end
  if priority then
    redis.call('SET', KEYS[8], tostring(tx_tat), 'PX', math.ceil(tx_tat - now) + 1000)
  end
end
if ARGV[13] == '1' then
  -- The chunks sharing the server's connections (delivery.pipeline.slots).
  answer[#answer + 1] = 'chunks'
  answer[#answer + 1] = tostring(redis.call('ZCOUNT', KEYS[7], now, '+inf'))
end
return answer
"""


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


def journal_key(claim: uuid.UUID) -> str:
    return f"{PREFIX}:journal:{claim}"


def inflight_key(claim: uuid.UUID) -> str:
    return f"{PREFIX}:inflight:{claim}"


class Gate:
    """One chunk's (or one test send's) handle on a server's shared limits.

    With a ``claim`` the gate journals outcomes and tracks messages in flight
    for crash recovery; with a ``campaign_id`` it obeys the campaign's stop key.
    """

    def __init__(
        self,
        limits: ServerLimits,
        *,
        claim: uuid.UUID | None = None,
        campaign_id: int | None = None,
        share_key: str = "",
        priority_share: float | None = None,
    ) -> None:
        self.limits = limits
        self.claim = claim
        # With a ``share_key`` (``FairShare.key``), each admission also counts
        # the chunks sharing the server, so a chunk follows its fair share of
        # connections at once instead of at its next status check.
        self._share_key = share_key
        self.sharing_chunks = 0
        self._stop_key = stop_key(campaign_id) if campaign_id is not None else ""
        self._script = redis_client().register_script(_GATE)
        self._domains = domain_limits()
        self._sec_key = f"{PREFIX}:rate:smtp:{limits.server_id}"
        self._journal_key = journal_key(claim) if claim is not None else f"{PREFIX}:no-journal"
        self._inflight_key = inflight_key(claim) if claim is not None else f"{PREFIX}:no-inflight"
        # Transactional mail: its own interval (0: bulk) and turn key; it
        # reads the chunks sending through the server (slots.FairShare's key).
        self._tx_interval = 0.0
        self._tx_key = self._inflight_key
        if priority_share is not None:
            share = min(1.0, max(0.01, priority_share))
            self._tx_interval = limits.interval_ms / share
            self._tx_key = f"{PREFIX}:rate:tx:{limits.server_id}"
            self._share_key = share_key or f"{PREFIX}:chunks:{limits.server_id}"

    def check(
        self,
        *,
        domain: str,
        inflight: str = "",
        journal: Sequence[tuple[str, str]] = (),
    ) -> GateResult:
        """Ask whether one message to ``domain`` may go now.

        ``journal`` holds (outcome as JSON, delivery id) of messages finished
        since the last call; they are journaled whatever the verdict.
        """
        return self.admit([(domain, inflight)], journal=journal)[0]

    def admit(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        journal: Sequence[tuple[str, str]] = (),
        horizon_ms: float = 0.0,
    ) -> list[GateResult]:
        """Ask for several messages at once, in order: (domain, in-flight id) each.

        One answer per message up to and including the first that ends the
        batch (WAIT, QUOTA, STOP); the messages after it were not asked. A
        DOMAIN answer skips that one message. An OK answer's ``wait_ms`` is
        when, from now, the message may go: the server's rate grants turns up
        to ``horizon_ms`` ahead, so one round trip admits many messages at a
        high rate and exactly one, at once, at a low one.
        """
        if not messages:
            return []
        tracked = self.claim is not None
        hour_key, day_key, hour_ttl, day_ttl = self._quota_windows()
        item_args: list[str | float] = []
        domain_keys: list[str] = []
        for domain, inflight in messages:
            per_minute = self._domains.get(domain, 0)
            item_args.append(60_000.0 / per_minute if per_minute else 0.0)
            item_args.append(inflight or "")
            domain_keys.append(f"{PREFIX}:rate:domain:{domain}")
        entries = journal if tracked else ()
        reply = self._script(
            keys=[
                self._sec_key,
                hour_key,
                day_key,
                self._journal_key,
                self._inflight_key,
                self._stop_key or self._inflight_key,
                self._share_key or self._inflight_key,
                self._tx_key,
                *domain_keys,
            ],
            args=[
                self.limits.interval_ms,
                self.limits.burst_ms,
                self.limits.per_hour,
                self.limits.per_day,
                JOURNAL_TTL_SECONDS,
                hour_ttl,
                day_ttl,
                "1" if self._stop_key else "0",
                "1" if tracked and all(inflight for _, inflight in messages) else "0",
                horizon_ms,
                len(messages),
                len(entries),
                "1" if self._share_key else "0",
                self._tx_interval,
                *item_args,
                *[entry for entry, _ in entries],
                *[ident for _, ident in entries],
            ],
        )
        pairs = [(as_text(reply[i]), as_text(reply[i + 1])) for i in range(0, len(reply), 2)]
        if pairs and pairs[-1][0] == "chunks":
            self.sharing_chunks = int(pairs.pop()[1])
        return [GateResult(Verdict(verdict), float(wait)) for verdict, wait in pairs]

    def _quota_windows(self) -> tuple[str, str, int, int]:
        if not (self.limits.per_hour or self.limits.per_day):
            # Unused by the script; skips the date arithmetic on the hot path.
            return self._inflight_key, self._inflight_key, 0, 0
        return quota_window_keys(self.limits.server_id, datetime.now(UTC))

    def journal(self, entries: Sequence[tuple[str, str]]) -> None:
        """Journal finished messages when no gate call is due to carry them."""
        if not entries or self.claim is None:
            return
        pipe = redis_client().pipeline(transaction=True)
        pipe.rpush(self._journal_key, *[entry for entry, _ in entries])
        pipe.srem(self._inflight_key, *[ident for _, ident in entries])
        pipe.expire(self._journal_key, JOURNAL_TTL_SECONDS)
        pipe.execute()


# Transactional mail books turns of the server's rate up to this far ahead:
# further than a chunk does (ADMIT_HORIZON_MS), so it never waits behind
# bulk's bookings, only behind its own share.
PRIORITY_HORIZON_MS = 1000.0
# The most messages one call asks turns for (chunks and transactional
# batches alike): one Redis round trip for that many.
ADMIT_BATCH = 16


# --- stopping a campaign's chunks ------------------------------------------------

# Outlives any pause worth keeping the key for; a stale key is harmless anyway
# (the chunk checks the database before obeying it, see delivery.pipeline.chunk).
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
