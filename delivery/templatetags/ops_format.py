"""Formatting for the operations page: durations, rates, microseconds."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: float | None) -> str:
    """A short human duration: "45 s", "12 min", "3 h 20 min", "2 d 4 h"; "—" for None."""
    if seconds is None:
        return "—"
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if minutes < 10 and secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


@register.filter
def seconds_total(seconds: float) -> str:
    """Accumulated seconds: "0.35 s", "12.4 s", then as a duration."""
    if seconds < 1:
        return f"{seconds:.2f} s"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return duration(seconds)


@register.filter
def per_second(rate: float) -> str:
    """Messages per second with sensible precision: "0", "0.35", "4.2", "120"."""
    if rate <= 0:
        return "0"
    if rate < 1:
        return f"{rate:.2f}"
    if rate < 10:
        return f"{rate:.1f}"
    return f"{rate:,.0f}"


@register.filter
def micros(value: float) -> str:
    """Microseconds, rounded for reading: "850", "12,400"."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.1f}"


@register.filter
def percent_of(part: float, whole: float) -> int:
    """``part`` as a whole percentage of ``whole`` (0 when ``whole`` is 0), capped at 100."""
    return min(100, round(100 * part / whole)) if whole else 0


@register.filter
def rate_percent(rate: float | None, digits: int = 1) -> str:
    """A rate (0.123) as a percentage ("12.3%"); a dash where there is none."""
    return "—" if rate is None else f"{100 * rate:.{int(digits)}f}%"
