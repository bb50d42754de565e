"""The event queue between the tracking endpoints and the ingest worker, in Redis.

The endpoints ``push`` and answer: they never wait on the database. The
ingest worker ``claim``s a batch, which an atomic script moves from the
queue to a processing list of its own, registered with the time of the
claim; it ``ack``s the batch (deletes that list) only after the database
committed it. A worker killed in between leaves the list behind: after
``TRACKING_CLAIM_LEASE_SECONDS`` the next drain takes it over under the same token,
and the database's record of ingested tokens keeps it from counting twice.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from django.conf import settings

from postino.redis import as_text, redis_client

QUEUE = "postino:tracking:events"
CLAIMS = "postino:tracking:claims"
PROCESSING = "postino:tracking:processing:"
LOCK = "postino:tracking:ingest-lock"


def lease_seconds() -> int:
    return int(settings.POSTINO["TRACKING_CLAIM_LEASE_SECONDS"])


# KEYS: queue, processing list, claims. ARGV: how many, claim time. Oldest
# first: LPUSH adds at the head, so the oldest are at the tail.
_CLAIM = """
local items = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
if #items == 0 then return items end
redis.call('LTRIM', KEYS[1], 0, -#items - 1)
for i = 1, #items, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(items, i, math.min(i + 999, #items)))
end
redis.call('ZADD', KEYS[3], ARGV[2], KEYS[2])
return items
"""


def push(event: dict[str, Any]) -> None:
    redis_client().lpush(QUEUE, json.dumps(event, separators=(",", ":")))


def depth() -> int:
    return int(redis_client().llen(QUEUE))


def claim(limit: int) -> tuple[str, list[dict[str, Any]]]:
    token = uuid.uuid4().hex
    items = redis_client().eval(_CLAIM, 3, QUEUE, PROCESSING + token, CLAIMS, limit, time.time())
    return token, [json.loads(item) for item in items]


def ack(token: str) -> None:
    client = redis_client()
    client.delete(PROCESSING + token)
    client.zrem(CLAIMS, PROCESSING + token)


def stalled() -> list[tuple[str, list[dict[str, Any]]]]:
    """Batches claimed longer ago than the lease and never acknowledged, with
    their claim renewed (this drain takes them over)."""
    client = redis_client()
    found = []
    for key in client.zrangebyscore(CLAIMS, 0, time.time() - lease_seconds()):
        name = as_text(key)
        client.zadd(CLAIMS, {name: time.time()})
        items = client.lrange(name, 0, -1)
        found.append((name.removeprefix(PROCESSING), [json.loads(item) for item in items]))
    return found


def hold_lock() -> str | None:
    """One drain at a time (uniques are decided against what is written): a
    token if this caller now holds the lock, for a lease, else None. A drain
    killed while holding it lets it go when the lease runs out."""
    token = uuid.uuid4().hex
    return token if redis_client().set(LOCK, token, nx=True, ex=lease_seconds()) else None


def renew_lock(token: str) -> bool:
    """Another lease for the holder; False if the lock was lost meanwhile."""
    client = redis_client()
    if as_text(client.get(LOCK) or b"") != token:
        return False
    return bool(client.expire(LOCK, lease_seconds()))


def release_lock(token: str) -> None:
    client = redis_client()
    if as_text(client.get(LOCK) or b"") == token:
        client.delete(LOCK)
