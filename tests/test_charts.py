from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery, SmtpServer
from delivery.selectors import campaign_sent_per_minute, recent_failures, sent_per_day
from postino.charts import AXES_HEIGHT, LEGEND_HEIGHT, bar_chart, series_chart
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db


def test_a_bar_chart_is_one_series_named_after_its_unit() -> None:
    chart = bar_chart([("a", 5), ("b", 10), ("c", 0)], unit="messages")
    assert chart.data == {
        "kind": "bar",
        "unit": "messages",
        "stacked": False,
        "labels": ["a", "b", "c"],
        "series": [{"name": "Messages", "values": [5, 10, 0]}],
    }
    assert (chart.maximum, chart.total) == (10, 15)
    assert chart.summary == "15 messages in all, at most 10 per bar"


def test_an_all_zero_chart_is_empty() -> None:
    assert bar_chart([("a", 0)], unit="messages").is_empty
    assert bar_chart([], unit="messages").is_empty


def test_the_height_asked_for_is_the_plotting_area_and_the_axes_get_room_of_their_own() -> None:
    one = bar_chart([("a", 1)], unit="reports", height=60)
    two = series_chart(["a"], [("Humans", [1]), ("Machines", [2])], unit="opens", height=60)
    assert one.height == 60 + AXES_HEIGHT
    assert two.height == 60 + AXES_HEIGHT + LEGEND_HEIGHT


def test_a_series_chart_keeps_its_series_in_order_and_sums_stacked_columns() -> None:
    chart = series_chart(
        ["Mon", "Tue"],
        [("Humans", [1_200, 3]), ("Machines", [40, 900])],
        unit="opens",
        kind="line",
        stacked=True,
    )
    assert chart.data["kind"] == "line" and chart.data["stacked"] is True
    assert [s["name"] for s in chart.data["series"]] == ["Humans", "Machines"]
    assert [(row.label, row.values) for row in chart.rows] == [
        ("Mon", (1_200, 40)),
        ("Tue", (3, 900)),
    ]
    assert (chart.total, chart.maximum) == (2_143, 1_240)
    assert chart.summary == "Humans: 1,203 opens · Machines: 940 opens"


def test_unstacked_series_peak_at_their_tallest_single_value() -> None:
    chart = series_chart(["Mon", "Tue"], [("Sent", [5, 7]), ("Opened", [4, 6])], unit="messages")
    assert chart.maximum == 7


def test_a_series_that_does_not_match_the_labels_is_refused() -> None:
    with pytest.raises(ValueError, match="'Machines' has 1 values for 2 labels"):
        series_chart(["Mon", "Tue"], [("Humans", [1, 2]), ("Machines", [1])], unit="opens")


def chart_data(html: str) -> list[dict[str, Any]]:
    """Every chart's JSON data island, in page order."""
    islands = re.findall(
        r'<figure class="chart" data-role="chart" data-chart>.*?'
        r'<script type="application/json">(.*?)</script>',
        html,
        flags=re.S,
    )
    return [json.loads(island) for island in islands]


@pytest.fixture
def sent_campaign() -> Campaign:
    server = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")
    news = make_list()
    readers = add_audience(news, 6)
    campaign = make_campaign(lists=[news], server=server)
    now = timezone.now().replace(second=30, microsecond=0)
    Campaign.objects.filter(pk=campaign.pk).update(
        status="finished", started_at=now - timedelta(minutes=3), finished_at=now
    )
    campaign.refresh_from_db()
    minutes_ago = [0, 0, 1, 3]
    for reader, ago in zip(readers, minutes_ago, strict=False):
        Delivery.objects.create(
            campaign=campaign,
            subscriber=reader,
            status="sent",
            sent_at=now - timedelta(minutes=ago),
        )
    Delivery.objects.create(
        campaign=campaign, subscriber=readers[4], status="failed", smtp_code=550, smtp_reply="gone"
    )
    return campaign


def test_a_campaign_timeline_has_every_minute_including_empty_ones(
    sent_campaign: Campaign,
) -> None:
    counts = [count for _, count in campaign_sent_per_minute(sent_campaign)]
    # At least 15 minutes are shown; the campaign ran in the last four.
    assert counts == [0] * 11 + [1, 0, 1, 2]


def test_daily_totals_cover_the_last_thirty_days(sent_campaign: Campaign) -> None:
    days = sent_per_day(30)
    assert len(days) == 30
    assert sum(count for _, count in days) == 4


def test_recent_failures_show_the_reply(sent_campaign: Campaign) -> None:
    (failure,) = recent_failures(sent_campaign)
    assert (failure.smtp_code, failure.smtp_reply) == (550, "gone")


def test_the_campaign_page_charts_its_sending_rate_and_lists_failures(
    teammate_client: Client, sent_campaign: Campaign
) -> None:
    page = teammate_client.get(reverse("campaigns:detail", args=[sent_campaign.pk]))
    html = page.content.decode()
    (rate, *_results) = chart_data(html)
    assert rate["unit"] == "messages"
    assert rate["series"][0]["values"] == [0] * 11 + [1, 0, 1, 2]
    assert len(rate["labels"]) == 15
    assert 'aria-label="Messages sent per minute: 4 messages in all, at most 2 per bar"' in html
    assert "reader4@example.org" in html and "gone" in html


def test_a_chart_carries_its_figures_as_a_table_for_readers_without_javascript(
    teammate_client: Client, sent_campaign: Campaign
) -> None:
    html = teammate_client.get(reverse("campaigns:activity", args=[sent_campaign.pk])).content
    figures = html.decode().split('<details class="chart-figures">', 1)[1]
    assert "Show figures" in figures
    rate = chart_data(html.decode())[0]
    last_minute = rate["labels"][-1]
    assert f'<tr><th scope="row">{last_minute}</th><td class="num">2</td></tr>' in figures
    assert "4 messages in all, at most 2 per bar</figcaption>" in html.decode()


def test_an_empty_chart_says_so_and_draws_nothing(teammate_client: Client) -> None:
    html = teammate_client.get(reverse("dashboard")).content.decode()
    assert "No messages sent in the last 30 days." in html
    assert chart_data(html) == []
    assert "<canvas" not in html


def test_the_activity_fragment_is_for_staff_only(
    client: Client, outsider_client: Client, teammate_client: Client, sent_campaign: Campaign
) -> None:
    url = reverse("campaigns:activity", args=[sent_campaign.pk])
    assert client.get(url).status_code == 302
    assert outsider_client.get(url).status_code == 403
    response = teammate_client.get(url)
    assert response.status_code == 200
    (rate,) = chart_data(response.content.decode())
    assert sum(rate["series"][0]["values"]) == 4


def test_the_dashboard_charts_messages_per_day(
    teammate_client: Client, sent_campaign: Campaign
) -> None:
    html = teammate_client.get(reverse("dashboard")).content.decode()
    (daily,) = chart_data(html)
    assert len(daily["labels"]) == 30
    assert daily["labels"][-1] == timezone.localdate().strftime("%b %d")
    assert daily["series"] == [{"name": "Messages", "values": [0] * 29 + [4]}]
    assert "4 messages in all" in html


def test_every_page_loads_the_vendored_chart_library_before_drawing(
    teammate_client: Client,
) -> None:
    html = teammate_client.get(reverse("dashboard")).content.decode()
    library = html.index("vendor/chartjs/chart.umd.min.js")
    assert html.index("js/charts.js") > library
