"""Server-rendered bar charts (inline SVG): no JavaScript library, no build step."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    maximum: int
    total: int
    first_label: str
    last_label: str
    unit: str

    @property
    def is_empty(self) -> bool:
        return self.total == 0


def bar_chart(
    points: Sequence[tuple[str, int]], *, unit: str, width: int = 600, height: int = 120
) -> BarChart:
    """Lay out one bar per point, scaled to the largest value."""
    maximum = max((value for _, value in points), default=0)
    slot = width / max(1, len(points))
    gap = min(2.0, slot * 0.2)
    bars = []
    for index, (label, value) in enumerate(points):
        bar_height = (value / maximum) * height if maximum else 0.0
        bars.append(
            Bar(
                x=round(index * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(slot - gap, 2),
                height=round(bar_height, 2),
                label=label,
                value=value,
            )
        )
    return BarChart(
        width=width,
        height=height,
        bars=bars,
        maximum=maximum,
        total=sum(value for _, value in points),
        first_label=points[0][0] if points else "",
        last_label=points[-1][0] if points else "",
        unit=unit,
    )
