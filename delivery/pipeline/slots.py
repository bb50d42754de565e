"""The cap on open connections to one server, shared by every worker.

A sorted set per server in Redis, one member per open connection (or ESP
call lane), scored by its expiry: a slot held by a worker that died frees
itself when the expiry passes, and a live holder refreshes its slot while it
keeps the connection.
"""

from __future__ import annotations

import contextlib
import time

import redis
from django.conf import settings

from postino.redis import redis_client

PREFIX = "postino"


def slot_ttl_ms() -> int:
    """How long a slot lasts unless refreshed (``SEND_SLOT_TTL_SECONDS``): a
    worker killed with its connections open frees them this long after, so a
    replacement worker can reconnect then."""
    return int(settings.POSTINO["SLOT_TTL_SECONDS"]) * 1000


def refresh_due(refreshed: float) -> bool:
    """Whether a holder should refresh its slot, last refreshed at ``refreshed``
    (``time.monotonic()``): three times per TTL (lanes before a message and
    while idle), so a live holder's slot never lapses."""
    return time.monotonic() - refreshed > slot_ttl_ms() / 3000


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


def bulk_connection_cap(maximum: int) -> int:
    """How many of a server's ``maximum`` connections campaign chunks may
    hold: all but ``TX_RESERVED_CONNECTIONS`` (never fewer than one), so a
    transactional message always finds a connection free of bulk."""
    from django.conf import settings

    reserved = int(settings.POSTINO["TX_RESERVED_CONNECTIONS"])
    return max(1, maximum - reserved)


class ConnectionSlots:
    """The cap on open connections to one server across every worker."""

    def __init__(self, server_id: int, maximum: int) -> None:
        self.key = f"{PREFIX}:connections:{server_id}"
        self.maximum = maximum
        self._script = redis_client().register_script(_ACQUIRE_SLOT)

    def acquire(self, member: str) -> bool:
        """Take (or refresh) a slot for ``member``; False when all are taken."""
        try:
            return bool(self._script(keys=[self.key], args=[self.maximum, member, slot_ttl_ms()]))
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


# --- chunks sharing a server -------------------------------------------------

_JOIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
"""


class FairShare:
    """How many of a server's connections one running chunk may hold.

    Every chunk sending through a server registers here; each may open up to
    ``max_connections / running chunks`` (rounded up). Without it the first
    chunk to start would take every connection and the worker processes that
    started a moment later would sit idle, however much CPU they had to offer
    the send.
    """

    def __init__(self, server_id: int, maximum: int, member: str, *, ttl_ms: int) -> None:
        self.key = f"{PREFIX}:chunks:{server_id}"
        self.maximum = maximum
        self.member = member
        self.ttl_ms = ttl_ms
        self._script = redis_client().register_script(_JOIN)

    def share(self) -> int:
        """Join (or refresh) and return this chunk's share of connections."""
        try:
            running = int(self._script(keys=[self.key], args=[self.member, self.ttl_ms]))
        except redis.RedisError:
            return self.maximum
        return self.share_among(running)

    def share_among(self, running: int) -> int:
        """The share of each of ``running`` chunks (rounded up)."""
        return max(1, -(-self.maximum // max(1, running)))

    def leave(self) -> None:
        with contextlib.suppress(redis.RedisError):
            redis_client().zrem(self.key, self.member)
