"""A campaign's report in the browser: its charts of people and machines over
time, the CSV download, and two campaigns compared side by side."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import DomainOutcome
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tracking.models import CampaignHour, DomainStats

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def sent(name: str, *, delivered: int, opened: int, machine_opens: int) -> Campaign:
    started = timezone.now() - timedelta(hours=6)
    campaign = Campaign.objects.create(
        name=name,
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        status=Campaign.Status.FINISHED,
        started_at=started,
        finished_at=started,
    )
    DomainOutcome.objects.create(campaign=campaign, domain="gmail.com", sent=delivered)
    DomainStats.objects.create(campaign=campaign, domain="gmail.com", unique_opens=opened)
    CampaignHour.objects.create(
        campaign=campaign,
        hour=started.replace(minute=0, second=0, microsecond=0),
        opens=opened,
        unique_opens=opened,
        machine_opens=machine_opens,
    )
    return campaign


def test_a_report_draws_people_and_machines_exports_and_compares(
    page: Any, staff: User, live_server: Any
) -> None:
    spring = sent("Spring", delivered=40, opened=10, machine_opens=4)
    sent("Summer", delivered=50, opened=5, machine_opens=1)

    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, f"/campaigns/{spring.pk}/")
    chart = page.locator("#results figure[data-chart][data-chart-drawn]").first
    expect(chart.locator("canvas")).to_be_visible()
    series = page.evaluate(
        """() => {
            const canvas = document.querySelector('#results figure[data-chart] canvas');
            const chart = Chart.getChart(canvas);
            return chart.data.datasets.map(d => [d.label, d.data.reduce((a, b) => a + b, 0)]);
        }"""
    )
    assert series == [["By people", 10], ["By mail proxies", 4]]
    expect(page.locator('[data-role="domains"] [data-domain="gmail.com"]')).to_contain_text("25.0%")

    with page.expect_download() as download_info:
        page.get_by_test_id("report-csv").click()
    download = download_info.value
    with open(download.path(), encoding="utf-8") as exported:
        rows = list(csv.reader(io.StringIO(exported.read())))
    assert ["People who opened", "10", "25.00"] in rows

    page.get_by_test_id("compare-link").click()
    page.get_by_label("Summer").check()
    page.get_by_role("button", name="Compare").click()
    opened = page.locator('[data-testid="compare-table"] [data-figure="opened"]')
    expect(opened).to_contain_text("25.0%")
    expect(opened).to_contain_text("10.0%")
    expect(page.locator("figure[data-chart][data-chart-drawn] canvas")).to_be_visible()
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
            .filter(el => el.getBoundingClientRect().right > 1280)
            .map(el => el.tagName + '.' + el.className).slice(0, 8)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280, wide
    page.screenshot(path=str(SCREENSHOTS / "postino-campaigns-compared.png"), full_page=True)
