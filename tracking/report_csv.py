"""Campaign reports as CSV rows: one campaign's report in sections, or several
campaigns side by side. Rates are percentages with two decimals, empty where
there is nothing to divide by; times are ISO 8601 in UTC. Text that people
wrote (names, subjects, links) goes through ``safe_cell``: a spreadsheet
opening the file shows it, never runs it."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC

from campaigns.models import Campaign
from subscribers.selectors import safe_cell
from tracking.selectors import Report

Row = list[str | int]


def percent(rate: float | None) -> str:
    return "" if rate is None else f"{100 * rate:.2f}"


# Each figure of a report: its label, its count, and its rate (None: no rate).
FIGURES: list[tuple[str, Callable[[Report], int], Callable[[Report], float | None] | None]] = [
    ("Sent", lambda r: r.sent, None),
    ("Delivered", lambda r: r.delivered, lambda r: r.sent_rate(r.delivered)),
    ("Failed while sending", lambda r: r.failed, None),
    ("Hard bounces", lambda r: r.hard_bounces, lambda r: r.sent_rate(r.hard_bounces)),
    ("Soft bounces", lambda r: r.soft_bounces, lambda r: r.sent_rate(r.soft_bounces)),
    ("People who opened", lambda r: r.opens.unique, lambda r: r.rate(r.opens.unique)),
    ("Opens by people", lambda r: r.opens.total, None),
    ("Opens by machines", lambda r: r.opens.machine, None),
    ("People who clicked", lambda r: r.clicks.unique, lambda r: r.rate(r.clicks.unique)),
    ("Clicks by people", lambda r: r.clicks.total, None),
    ("Clicks by machines", lambda r: r.clicks.machine, None),
    ("Unsubscribed", lambda r: r.unsubscribed, lambda r: r.rate(r.unsubscribed)),
    ("Complaints", lambda r: r.complaints, lambda r: r.rate(r.complaints)),
]


def report_rows(campaign: Campaign, report: Report) -> Iterator[Row]:
    """The report in sections (figures, unsubscribe reasons, links, domains,
    timeline), each with its own header row, a blank row between them."""
    yield ["Campaign", safe_cell(campaign.name)]
    yield ["Subject", safe_cell(campaign.subject)]
    started = campaign.started_at
    yield ["Started", started.astimezone(UTC).isoformat() if started else ""]
    yield []
    yield ["Figure", "Count", "Rate (%)"]
    for label, count, rate in FIGURES:
        yield [label, count(report), percent(rate(report)) if rate else ""]
    yield []
    yield ["Unsubscribe reason", "People"]
    for reason in report.reasons:
        yield [safe_cell(reason.label), reason.count]
    yield []
    yield ["Link", "People", "Clicks", "Clicks by machines"]
    for link in report.links:
        yield [safe_cell(link.url), link.unique, link.total, link.machine]
    yield []
    yield [
        "Recipient domain", "Sent", "Delivered", "Delivered (%)", "Failed", "Hard bounces",
        "Soft bounces", "Bounced (%)", "People who opened", "Opened (%)",
        "People who clicked", "Clicked (%)",
    ]  # fmt: skip
    for row in report.domains:
        yield [
            safe_cell(row.domain), row.sent, row.delivered, percent(row.delivered_rate), row.failed,
            row.hard_bounces, row.soft_bounces, percent(row.bounce_rate), row.unique_opens,
            percent(row.open_rate), row.unique_clicks, percent(row.click_rate),
        ]  # fmt: skip
    yield []
    yield [
        f"{report.timeline.step.title()} from (UTC)", "Opens by people", "Clicks by people",
        "Opens by machines", "Clicks by machines",
    ]  # fmt: skip
    for point in report.timeline.rows:
        yield [
            point.start.astimezone(UTC).isoformat(), point.opens, point.clicks,
            point.machine_opens, point.machine_clicks,
        ]  # fmt: skip


def comparison_rows(compared: Sequence[tuple[Campaign, Report]]) -> Iterator[Row]:
    """One row per figure (and per rate), one column per campaign."""
    yield ["Figure", *[safe_cell(campaign.name) for campaign, _ in compared]]
    for label, count, rate in FIGURES:
        yield [label, *[count(report) for _, report in compared]]
        if rate is not None:
            yield [f"{label} (%)", *[percent(rate(report)) for _, report in compared]]
