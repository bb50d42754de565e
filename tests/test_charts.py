from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery, SmtpServer
from delivery.selectors import campaign_sent_per_minute, recent_failures, sent_per_day
from postino.charts import bar_chart
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db


def test_bars_scale_to_the_largest_value() -> None:
    chart = bar_chart([("a", 5), ("b", 10), ("c", 0)], unit="messages", width=300, height=100)
    assert [bar.height for bar in chart.bars] == [50.0, 100.0, 0.0]
    assert [bar.y for bar in chart.bars] == [50.0, 0.0, 100.0]
    assert (chart.maximum, chart.total, chart.first_label, chart.last_label) == (10, 15, "a", "c")
    assert all(bar.width > 0 for bar in chart.bars)


def test_an_all_zero_chart_is_empty() -> None:
    assert bar_chart([("a", 0)], unit="messages").is_empty
    assert bar_chart([], unit="messages").is_empty


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
    assert html.count('class="chart-bar"') == 15
    assert "max 2 messages per bar · 4 in all" in html
    assert "reader4@example.org" in html and "gone" in html


def test_the_activity_fragment_is_for_staff_only(
    client: Client, outsider_client: Client, teammate_client: Client, sent_campaign: Campaign
) -> None:
    url = reverse("campaigns:activity", args=[sent_campaign.pk])
    assert client.get(url).status_code == 302
    assert outsider_client.get(url).status_code == 403
    response = teammate_client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count('class="chart-bar"') == 15


def test_the_dashboard_charts_messages_per_day(
    teammate_client: Client, sent_campaign: Campaign
) -> None:
    html = teammate_client.get(reverse("dashboard")).content.decode()
    assert html.count('class="chart-bar"') == 30
    assert "4 in all" in html
