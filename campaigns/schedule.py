"""Schedule times in a chosen time zone: local wall-clock time to an instant and back.

A marketer thinks "Monday 09:00 in Berlin"; the database stores the instant
(``Campaign.scheduled_at``) and the zone it was chosen in
(``Campaign.schedule_timezone``, blank meaning the site's ``TIME_ZONE``), so
the page can show the time as it was entered and the scheduler compares
instants only. A local time that does not exist (the hour skipped when clocks
go forward) or that happens twice (the hour repeated when they go back) is
refused rather than guessed: a guess is an hour early or late for everyone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError

FIELD = "scheduled_at"
ZONE_FIELD = "schedule_timezone"


def site_zone_name() -> str:
    return str(settings.TIME_ZONE)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # available_timezones() walks the tz database on disk; once per process.
    return frozenset(available_timezones())


def zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone for a select, the site's zone first (it is the default)."""
    site = site_zone_name()
    others = sorted(name for name in _zone_names() if name != site)
    return [(site, f"{site} (site default)"), *((name, name) for name in others)]


def clean_zone_name(name: str) -> str:
    """A known IANA zone name; blank stays blank (the site's zone)."""
    name = (name or "").strip()
    if name and name not in _zone_names() and name != site_zone_name():
        raise ValidationError(
            {
                ZONE_FIELD: f"“{name}” is not a time zone we know; "
                "use an IANA name such as Europe/Berlin."
            }
        )
    return name


def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name or site_zone_name())


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_to_instant(local: datetime, zone_name: str) -> datetime:
    """The instant a naive wall-clock ``local`` time names in the zone.

    Raises ``ValidationError`` on ``scheduled_at`` for a time skipped or
    repeated by a daylight-saving change, saying which and what to pick instead.
    """
    if local.tzinfo is not None:
        raise ValueError("local_to_instant takes a naive wall-clock time")
    zone = zone_of(zone_name)
    name = zone_name or site_zone_name()
    first = local.replace(tzinfo=zone, fold=0)
    second = local.replace(tzinfo=zone, fold=1)
    when = f"{local:%Y-%m-%d %H:%M}"
    # zoneinfo accepts any wall time; the round trip through UTC shows whether
    # the clock ever read it (a gap) and the two folds whether it read it twice.
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local:
        before, after = first.utcoffset(), second.utcoffset()
        shift = abs((before or timedelta()) - (after or timedelta()))
        raise ValidationError(
            {
                FIELD: (
                    f"{when} does not exist in {name}: clocks go forward by "
                    f"{_duration_text(shift)} that night ({_offset_text(before)} to "
                    f"{_offset_text(after)}). Choose a time outside the skipped "
                    f"{_duration_text(shift)}."
                )
            }
        )
    if first.utcoffset() != second.utcoffset():
        raise ValidationError(
            {
                FIELD: (
                    f"{when} happens twice in {name}: clocks go back that night, so it is "
                    f"{first.astimezone(UTC):%H:%M} UTC ({_offset_text(first.utcoffset())}) and "
                    f"again {second.astimezone(UTC):%H:%M} UTC "
                    f"({_offset_text(second.utcoffset())}). Choose a time outside the repeated "
                    "hour, or give the time with its UTC offset through the API."
                )
            }
        )
    return first.astimezone(UTC)


def _duration_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minutes"


def resolve(at: datetime, zone_name: str) -> datetime:
    """``at`` as an instant: a naive time is read in the named zone (DST checks
    included), an aware one is already an instant and is kept as given."""
    if at.tzinfo is None and zone_name:
        return local_to_instant(at, clean_zone_name(zone_name))
    return at


def in_zone(instant: datetime, zone_name: str) -> datetime:
    return instant.astimezone(zone_of(zone_name))


def describe(instant: datetime, zone_name: str) -> str:
    """ "2027-03-01 09:00 Europe/Berlin (08:00 UTC)"; the UTC part only when it differs,
    with its date when that differs too."""
    name = zone_name or site_zone_name()
    local = in_zone(instant, zone_name)
    utc = instant.astimezone(UTC)
    text = f"{local:%Y-%m-%d %H:%M} {name}"
    if local.utcoffset() == timedelta() and name in {"UTC", "Etc/UTC"}:
        return text
    utc_text = f"{utc:%H:%M}" if utc.date() == local.date() else f"{utc:%Y-%m-%d %H:%M}"
    return f"{text} ({utc_text} UTC)"
