"""Reads about an SMTP server's sending limits, for the pages and the API.

Both defer to ``delivery.pipeline.gate.warmup_daily_limit``, the function the send
pipeline uses, so what a marketer sees is what the workers enforce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from delivery.models import SmtpServer
from delivery.pipeline.gate import warmup_daily_limit

RAMP_DAYS = 7


def utc_today() -> date:
    # The shaping windows (and so the ramp's days) are UTC calendar days.
    return datetime.now(UTC).date()


def effective_daily_limit(server: SmtpServer, *, today: date | None = None) -> int | None:
    """Messages the server may send today (UTC); None when there is no daily cap."""
    return warmup_daily_limit(server, today or utc_today())


@dataclass(frozen=True, slots=True)
class RampDay:
    day: date
    limit: int | None
    is_today: bool


def warmup_ramp(
    server: SmtpServer, *, today: date | None = None, days: int = RAMP_DAYS
) -> list[RampDay]:
    """The effective daily limit for ``days`` days from today; empty without a warm-up."""
    if not (server.warmup_start_per_day and server.warmup_started_on):
        return []
    today = today or utc_today()
    return [
        RampDay(day=day, limit=warmup_daily_limit(server, day), is_today=offset == 0)
        for offset in range(days)
        for day in [today + timedelta(days=offset)]
    ]
