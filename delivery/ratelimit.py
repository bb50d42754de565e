"""Messages-per-second limits shared by every worker, kept in Redis.

A GCRA (generic cell rate algorithm) in one Lua script: Redis stores only the
"theoretical arrival time" of the next message per SMTP server, and the script
runs atomically, so any number of worker processes on any number of machines
together stay under the configured rate. Redis's own clock is used, so worker
clocks need not agree.
"""

from __future__ import annotations

import logging
import time

import redis

from postino.redis import redis_client

log = logging.getLogger(__name__)

# Returns "0" when a message may go now, else the milliseconds to wait.
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - burst
if now < allow_at then return tostring(allow_at - now) end
local new_tat = tat + interval
redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return '0'
"""


class RateLimiter:
    """Blocks until the next message to ``key`` is allowed under ``per_second``."""

    def __init__(self, key: str, per_second: float, *, burst: int = 1) -> None:
        self.key = f"postino:rate:{key}"
        self.interval_ms = 1000.0 / per_second
        # burst=1 allows no more than one message ahead of the steady rate.
        self.burst_ms = self.interval_ms * max(0, burst - 1)
        self._script = redis_client().register_script(_GCRA)

    def wait_ms(self) -> float:
        """Try to take a slot; 0 if taken, else how long to wait before retrying."""
        return float(self._script(keys=[self.key], args=[self.interval_ms, self.burst_ms]))

    def acquire(self) -> None:
        while True:
            try:
                wait = self.wait_ms()
            except redis.RedisError as exc:
                # Redis away (restart, failover): keep this process under the
                # rate on its own rather than stop sending or flood the server.
                log.warning("rate limiter unavailable (%s); pacing locally", exc)
                time.sleep(self.interval_ms / 1000.0)
                return
            if wait <= 0:
                return
            time.sleep(wait / 1000.0)
