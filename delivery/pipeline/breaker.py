"""Circuit breakers: take a failing server out of rotation, pause a campaign
whose messages keep failing.

Both live in Redis so every worker sees the same state: a server marked down
by one worker is skipped by all of them until its back-off ends, and a
campaign's failure tally adds up across every chunk sending it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import redis
from django.conf import settings
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import pause_automatically
from postino.redis import as_text, redis_client

PREFIX = "postino"
EVENTS_KEY = "postino:events"


def _conf(name: str) -> Any:
    return settings.POSTINO[name]


def record_event(kind: str, message: str) -> None:
    """Keep the last errors that have no ledger row (connections, quotas)."""
    try:
        pipe = redis_client().pipeline(transaction=False)
        pipe.lpush(EVENTS_KEY, f"{timezone.now().isoformat()} {kind} {message}"[:500])
        pipe.ltrim(EVENTS_KEY, 0, 199)
        pipe.execute()
    except redis.RedisError:
        pass


# --- servers -------------------------------------------------------------------


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


QUOTA_SPENT = "hourly or daily quota spent"


def mark_server_exhausted(server_id: int, milliseconds: float) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().set(server_down_key(server_id), QUOTA_SPENT, px=max(1000, int(milliseconds)))


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


# --- campaigns -----------------------------------------------------------------


def _tally_key(campaign_id: int) -> str:
    return f"{PREFIX}:campaign:{campaign_id}:tally"


def _connect_failures_key(campaign_id: int) -> str:
    return f"{PREFIX}:campaign:{campaign_id}:connect-failures"


def error_limits(campaign: Campaign) -> tuple[int, float]:
    """(failures in a row, failure rate) at which the campaign pauses itself."""
    max_errors = campaign.max_errors or int(_conf("MAX_CONSECUTIVE_FAILURES"))
    max_rate = campaign.max_error_rate
    if max_rate is None:
        max_rate = float(_conf("MAX_ERROR_RATE"))
    return max_errors, max_rate


def check_error_thresholds(campaign: Campaign, attempts: int, failures: int, streak: int) -> bool:
    """Add a batch's counts to the campaign's tally (shared by all workers, in
    Redis) and pause the campaign when errors pile up. Returns True if paused.

    ``streak`` is the run of failures that ended the batch; when it is shorter
    than the batch's attempts, a message got through in between and the
    campaign's run of failures starts again from there.
    """
    if not attempts:
        return False
    key = _tally_key(campaign.pk)
    try:
        pipe = redis_client().pipeline(transaction=True)
        pipe.hincrby(key, "attempts", attempts)
        pipe.hincrby(key, "failures", failures)
        if streak < attempts:
            pipe.hset(key, "streak", streak)
        pipe.hincrby(key, "streak", 0 if streak < attempts else streak)
        pipe.expire(key, 7 * 24 * 3600)
        results = pipe.execute()
    except redis.RedisError:
        return False
    total_attempts, total_failures, current_streak = (
        int(results[0]),
        int(results[1]),
        int(results[-2]),
    )
    max_errors, max_rate = error_limits(campaign)
    reason = ""
    if current_streak >= max_errors:
        reason = f"Paused automatically: {current_streak} messages in a row failed."
    elif (
        total_attempts >= int(_conf("ERROR_RATE_MIN_SAMPLE"))
        and total_failures / total_attempts > max_rate
    ):
        reason = (
            f"Paused automatically: {total_failures / total_attempts:.0%} of {total_attempts} "
            f"attempts failed (threshold {max_rate:.0%})."
        )
    return bool(reason) and pause_automatically(campaign=campaign, reason=reason)


def count_connection_failure(campaign: Campaign, message: str) -> None:
    """A chunk could not reach its server; pause after MAX_CONNECT_FAILURES
    in a row (reset by any chunk that sends)."""
    key = _connect_failures_key(campaign.pk)
    try:
        count = int(redis_client().incr(key))
        redis_client().expire(key, 24 * 3600)
    except redis.RedisError:
        return
    if count >= int(_conf("MAX_CONNECT_FAILURES")):
        pause_automatically(
            campaign=campaign,
            reason=f"Paused automatically: cannot reach the SMTP server ({message}).",
        )


def reset_connection_failures(campaign_id: int) -> None:
    with contextlib.suppress(redis.RedisError):
        redis_client().delete(_connect_failures_key(campaign_id))
