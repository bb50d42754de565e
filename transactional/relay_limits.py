"""The relay's limits, counted in Redis so every relay process shares them.

Two kinds, both fixed windows:

* wrong passwords per client IP: ``SMTP_RELAY_AUTH_FAILURES`` within
  ``AUTH_WINDOW_SECONDS`` of the first one, after which that IP may not log
  in at all (not even with a right password, or guessing would go on) until
  the window ends;
* each credential's messages per minute and per UTC day. A recipient is one
  message (it becomes one ``TxMessage``); it is counted when RCPT accepts it
  and given back when the message is not stored after all, so refusals and
  failures never use up an application's allowance. A recipient whose
  client hangs up before DATA stays counted: a fixed window is approximate
  anyway, and the refund would need a hook on every way a connection ends.

These are plain functions that talk to Redis synchronously: the relay calls
them from its database threads, never from its event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings

from postino.redis import redis_client
from transactional.models import RelayCredential

AUTH_WINDOW_SECONDS = 600
_AUTH_PREFIX = "postino:relay:auth-failures:"
_SENT_PREFIX = "postino:relay:sent:"
DAY_SECONDS = 86_400
# The windows' clock; a test pins it, so that no window ends in the middle.
clock: Callable[[], float] = time.time

# Both windows are checked before either is charged, so a refusal by the
# daily limit never spends the minute's allowance (and the reverse).
_RESERVE = """
-- ARGV: the count, then each key's limit and TTL.
local n = tonumber(ARGV[1])
for i = 1, #KEYS do
  local limit = tonumber(ARGV[2 * i])
  if (tonumber(redis.call('GET', KEYS[i]) or '0') + n) > limit then
    return i
  end
end
for i = 1, #KEYS do
  redis.call('INCRBY', KEYS[i], n)
  redis.call('EXPIRE', KEYS[i], tonumber(ARGV[2 * i + 1]))
end
return 0
"""
# A refund only touches a window that still exists: DECRBY on an expired key
# would create it, negative and without a TTL, a free allowance for ever.
_REFUND = """
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('DECRBY', KEYS[i], tonumber(ARGV[1]))
  end
end
return 0
"""


def _auth_key(ip: str) -> str:
    return f"{_AUTH_PREFIX}{ip}"


def auth_blocked(ip: str) -> bool:
    """Whether this IP has used up its wrong passwords for now."""
    count = redis_client().get(_auth_key(ip))
    return count is not None and int(count) >= int(settings.POSTINO["SMTP_RELAY_AUTH_FAILURES"])


def record_auth_failure(ip: str) -> int:
    """Count a wrong password; the window starts at the first one."""
    key = _auth_key(ip)
    with redis_client().pipeline() as pipe:
        pipe.set(key, 0, ex=AUTH_WINDOW_SECONDS, nx=True)
        pipe.incr(key)
        _, count = pipe.execute()
    return int(count)


@dataclass(frozen=True)
class Reservation:
    """Messages counted against a credential's windows, to give back if unused."""

    keys: tuple[str, ...]
    count: int


class OverLimit(Exception):
    """The credential used up a window; ``window`` is "minute" or "day"."""

    def __init__(self, window: str, limit: int) -> None:
        super().__init__(f"{limit} messages per {window}")
        self.window = window
        self.limit = limit


def reserve(credential: RelayCredential, count: int = 1) -> Reservation:
    """Count ``count`` messages against the credential's limits, or raise ``OverLimit``."""
    moment = clock()
    windows: list[tuple[str, str, int, int]] = []
    if credential.messages_per_minute:
        minute = int(moment // 60)
        key = f"{_SENT_PREFIX}{credential.pk}:m:{minute}"
        windows.append(("minute", key, credential.messages_per_minute, 120))
    if credential.messages_per_day:
        day = int(moment // DAY_SECONDS)
        key = f"{_SENT_PREFIX}{credential.pk}:d:{day}"
        windows.append(("day", key, credential.messages_per_day, DAY_SECONDS + 3600))
    if not windows:
        return Reservation((), 0)
    arguments: list[int] = [count]
    for _, _, limit, ttl in windows:
        arguments += [limit, ttl]
    keys = [key for _, key, _, _ in windows]
    # EVALSHA: the script's text is not sent with every message.
    reserve_script = redis_client().register_script(_RESERVE)
    refused = int(reserve_script(keys=keys, args=arguments))
    if refused:
        window, _, limit, _ = windows[refused - 1]
        raise OverLimit(window, limit)
    return Reservation(tuple(keys), count)


def refund(reservations: list[Reservation]) -> None:
    """Give back what was counted for messages that were not stored."""
    refund_script = redis_client().register_script(_REFUND)
    for reservation in reservations:
        if reservation.keys and reservation.count:
            refund_script(keys=reservation.keys, args=[reservation.count])
