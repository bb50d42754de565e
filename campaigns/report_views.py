"""A campaign's results as the campaign page shows them, as CSV, and several
campaigns compared side by side."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_GET

from campaigns import abtest
from campaigns.models import Campaign
from postino.charts import series_chart
from postino.permissions import staff_required
from subscribers.selectors import safe_cell
from tracking import report_csv
from tracking.selectors import MAX_COMPARED, Report, Timeline, campaign_report, compare_campaigns

# Campaigns offered for comparison on the compare page (the latest that sent).
COMPARE_CHOICES = 50


def timeline_labels(timeline: Timeline) -> list[str]:
    """Hours as "14:00", with the date where a day begins; days as "3 Dec"."""
    labels = []
    previous_day = None
    for row in timeline.rows:
        local = timezone.localtime(row.start)
        if timeline.step == "day":
            labels.append(local.strftime("%-d %b"))
            continue
        day = local.date()
        labels.append(local.strftime("%-d %b %H:00" if day != previous_day else "%H:00"))
        previous_day = day
    return labels


def _percent(rate: float | None) -> float | None:
    return None if rate is None else 100 * rate


def results_context(campaign: Campaign) -> dict[str, Any]:
    """The report of a campaign that has sent (or is sending), with its charts."""
    if campaign.started_at is None:
        return {"report": None}
    report = campaign_report(campaign)
    labels = timeline_labels(report.timeline)
    step = "hour" if report.timeline.step == "hour" else "day"
    return {
        "report": report,
        "rates": _rates(report),
        "timeline_step": step,
        # People first; the machines' opens and clicks stacked above them.
        "opens_chart": series_chart(
            labels,
            [
                ("By people", [row.opens for row in report.timeline.rows]),
                ("By mail proxies", [row.machine_opens for row in report.timeline.rows]),
            ],
            unit="opens",
            stacked=True,
        ),
        "clicks_chart": series_chart(
            labels,
            [
                ("By people", [row.clicks for row in report.timeline.rows]),
                ("By link scanners", [row.machine_clicks for row in report.timeline.rows]),
            ],
            unit="clicks",
            stacked=True,
        ),
    }


def _whole(percent: float | None) -> str:
    return "—" if percent is None else f"{percent:.0f}%"


def _rates(report: Report) -> dict[str, float | None]:
    return {
        "delivered": _percent(report.sent_rate(report.delivered)),
        "bounced": _percent(report.sent_rate(report.bounced)),
        "opens": _percent(report.rate(report.opens.unique)),
        "clicks": _percent(report.rate(report.clicks.unique)),
        "unsubscribed": _percent(report.rate(report.unsubscribed)),
        "complaints": _percent(report.rate(report.complaints)),
    }


def _csv_response(filename: str, rows: Iterable[report_csv.Row]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerows(rows)
    return response


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "campaign"


@require_GET
@staff_required
def campaign_report_csv(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    rows = [*report_csv.report_rows(campaign, campaign_report(campaign)), *_ab_rows(campaign)]
    return _csv_response(f"report-{campaign.pk}-{_slug(campaign.name)}.csv", rows)


def _ab_rows(campaign: Campaign) -> list[report_csv.Row]:
    """The A/B test's section of the CSV: each variant's test figures."""
    test = abtest.test_of(campaign)
    if test is None:
        return []
    rows: list[report_csv.Row] = [
        [],
        ["A/B variant", "Sent", "People who opened", "Opened (%)", "People who clicked",
         "Clicked (%)", "Winner"],
    ]  # fmt: skip
    for row in abtest.variant_figures(test):
        won = "yes" if test.winner == row.index else ""
        opened, clicked = report_csv.percent(row.open_rate), report_csv.percent(row.click_rate)
        rows.append([safe_cell(row.label), row.sent, row.opened, opened, row.clicked, clicked, won])
    return rows


def _compared_ids(request: HttpRequest) -> tuple[list[int], str]:
    """The ``id`` values asked for, and what is wrong with them (empty if nothing)."""
    raw = request.GET.getlist("id")
    if any(not value.isdigit() for value in raw):
        return [], "Campaigns are chosen by their number."
    ids = list(dict.fromkeys(int(value) for value in raw))
    if len(ids) > MAX_COMPARED:
        return [], f"Compare at most {MAX_COMPARED} campaigns at once."
    return ids, ""


@require_GET
@staff_required
def campaign_compare(request: HttpRequest) -> HttpResponse:
    """Two or more campaigns' figures side by side (chosen with ``?id=…&id=…``)."""
    ids, error = _compared_ids(request)
    compared = compare_campaigns(ids) if not error else []
    if not error and ids and len(compared) < len(ids):
        error = "Some of the campaigns asked for do not exist (any more)."
    if not error and len(compared) == 1:
        error = "Choose at least two campaigns to compare."
    if request.GET.get("format") == "csv" and len(compared) >= 2 and not error:
        return _csv_response("campaigns-compared.csv", report_csv.comparison_rows(compared))
    columns: list[dict[str, Any]] = [
        {"campaign": campaign, "report": report, "rates": _rates(report)}
        for campaign, report in compared
    ]
    choices = Campaign.objects.filter(started_at__isnull=False).order_by("-started_at", "-pk")[
        :COMPARE_CHOICES
    ]
    labels = [campaign.name for campaign, _ in compared]
    return render(
        request,
        "campaigns/campaign_compare.html",
        {
            "columns": columns if len(columns) >= 2 else [],
            "choices": choices,
            "chosen": set(ids),
            "error": error,
            "max_compared": MAX_COMPARED,
            "query": request.GET.urlencode(),
            "rates_chart": series_chart(
                labels,
                [
                    ("Opened", [round(column["rates"]["opens"] or 0) for column in columns]),
                    ("Clicked", [round(column["rates"]["clicks"] or 0) for column in columns]),
                ],
                unit="% of delivered",
                caption="; ".join(
                    f"{label}: {_whole(column['rates']['opens'])} opened, "
                    f"{_whole(column['rates']['clicks'])} clicked"
                    for label, column in zip(labels, columns, strict=True)
                ),
            ),
        },
        status=400 if error and request.GET.getlist("id") else 200,
    )
