"""How the operations page writes durations, rates and costs."""

from __future__ import annotations

import pytest

from delivery.templatetags.ops_format import duration, micros, per_second, seconds_total


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (0, "0 s"),
        (44.6, "45 s"),
        (125, "2 min 5 s"),
        (720, "12 min"),
        (12 * 60 + 30, "12 min"),
        (3 * 3600 + 20 * 60, "3 h 20 min"),
        (7200, "2 h"),
        (3 * 86400 + 4 * 3600, "3 d 4 h"),
    ],
)
def test_durations_are_short_and_human(seconds: float | None, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("rate", "text"), [(0, "0"), (0.35, "0.35"), (4.24, "4.2"), (1234.4, "1,234")]
)
def test_rates_keep_sensible_precision(rate: float, text: str) -> None:
    assert per_second(rate) == text


def test_costs_and_totals_round_for_reading() -> None:
    assert (micros(8.25), micros(12_400.4)) == ("8.2", "12,400")
    assert (seconds_total(0.3), seconds_total(12.44), seconds_total(125)) == (
        "0.30 s",
        "12.4 s",
        "2 min 5 s",
    )
