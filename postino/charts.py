"""What a chart shows, described for the page: labels, series, unit, kind.

The server decides the figures; ``templates/includes/bar_chart.html`` puts
them in the page twice: as a JSON data island (``json_script``) that
``static/js/charts.js`` hands to Chart.js, and as a table of figures for
readers without JavaScript and for screen readers. Nothing here knows about
pixels beyond the drawing's height: the library lays the chart out to the
width it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["bar", "line"]

# Room for the x-axis labels and padding below the plotting area, so a chart
# asked for 60 px of bars still gets 60 px of bars. Chart.js measures its
# axes at draw time; this is an allowance, not a layout.
AXES_HEIGHT = 56
# A legend row (drawn only when there is more than one series).
LEGEND_HEIGHT = 28


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[int, ...]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass(frozen=True, slots=True)
class Row:
    """One label's figures, in series order: a row of the fallback table."""

    label: str
    values: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str
    kind: Kind
    stacked: bool
    plot_height: int
    # Said instead of the totals where adding the values up means nothing
    # (rates, say).
    caption: str = ""

    @property
    def total(self) -> int:
        return sum(series.total for series in self.series)

    @property
    def maximum(self) -> int:
        """The tallest bar or point: per label summed when stacked."""
        if self.stacked:
            return max((sum(row.values) for row in self.rows), default=0)
        return max((max(series.values, default=0) for series in self.series), default=0)

    @property
    def is_empty(self) -> bool:
        return self.total == 0

    @property
    def height(self) -> int:
        """The drawing's height in CSS pixels, axes (and legend) included."""
        legend = LEGEND_HEIGHT if len(self.series) > 1 else 0
        return self.plot_height + AXES_HEIGHT + legend

    @property
    def rows(self) -> list[Row]:
        return [
            Row(label=label, values=tuple(series.values[index] for series in self.series))
            for index, label in enumerate(self.labels)
        ]

    @property
    def summary(self) -> str:
        """The figures in one sentence: the canvas's label and the caption."""
        if self.caption:
            return self.caption
        if len(self.series) == 1:
            per = "bar" if self.kind == "bar" else "point"
            return f"{self.total:,} {self.unit} in all, at most {self.maximum:,} per {per}"
        return " · ".join(f"{series.name}: {series.total:,} {self.unit}" for series in self.series)

    @property
    def data(self) -> dict[str, Any]:
        """What charts.js reads from the page's JSON data island."""
        return {
            "kind": self.kind,
            "unit": self.unit,
            "stacked": self.stacked,
            "labels": list(self.labels),
            "series": [{"name": s.name, "values": list(s.values)} for s in self.series],
        }


def series_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    unit: str,
    kind: Kind = "bar",
    stacked: bool = False,
    height: int = 160,
    caption: str = "",
) -> Chart:
    """A chart of one or more named series over the same labels.

    ``height`` is the plotting area's, in CSS pixels; the chart grows by the
    room its axes and legend need.
    """
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    return Chart(
        labels=tuple(labels),
        series=tuple(Series(name=name, values=tuple(values)) for name, values in series),
        unit=unit,
        kind=kind,
        stacked=stacked,
        plot_height=height,
        caption=caption,
    )


def bar_chart(points: Sequence[tuple[str, int]], *, unit: str, height: int = 160) -> Chart:
    """One bar per (label, value) point: a single series named after its unit."""
    return series_chart(
        [label for label, _ in points],
        [(unit.capitalize(), [value for _, value in points])],
        unit=unit,
        height=height,
    )
