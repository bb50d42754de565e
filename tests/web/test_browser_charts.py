"""Charts in a real headless Chromium: drawn by Chart.js from the server's
figures, redrawn (not piled up) when the operations page refreshes itself, and
no page wider than a 1280 px laptop window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import Delivery
from delivery.selectors import sent_per_day
from postino.views import DAYS_CHARTED
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = BROWSER_MARKS

# What the page's one chart inside `root` holds, read from the Chart instance
# bound to its canvas; plus how many Chart instances the page keeps in all.
READ_CHART = """(root) => {
  const canvas = document.querySelector(root + " figure[data-chart] canvas");
  const chart = canvas && window.Chart.getChart(canvas);
  if (!chart) return null;
  if (!canvas.dataset.seen) canvas.dataset.seen = String(chart.id);
  return {
    id: chart.id,
    seen: canvas.dataset.seen,
    type: chart.config.type,
    labels: chart.data.labels,
    values: chart.data.datasets.map((d) => d.data),
    animation: chart.options.animation,
    width: canvas.clientWidth,
    height: canvas.clientHeight,
    figures: document.querySelectorAll(root + " figure[data-chart]").length,
    instances: Object.keys(window.Chart.instances).length,
  };
}"""


@pytest.fixture
def sent_campaign(transactional_db: None) -> Campaign:
    """A finished campaign whose mail went out over a fortnight, some of it
    in the last hour (so both the dashboard and the operations page chart it),
    and a bounce of each kind today."""
    User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)
    news = make_list()
    readers = add_audience(news, 60)
    long_name = "A campaign with a rather long name, as marketers write them"
    campaign = make_campaign(lists=[news], server=None, name=long_name)
    now = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.FINISHED, started_at=now - timedelta(days=14), finished_at=now
    )
    ages = [timedelta(days=index % 14, minutes=index) for index in range(50)]
    Delivery.objects.bulk_create(
        Delivery(campaign=campaign, subscriber=reader, status="sent", sent_at=now - age)
        for reader, age in zip(readers, ages, strict=False)
    )
    for kind, reader in zip(["hard", "soft", "complaint"], readers, strict=False):
        BounceEvent.objects.create(
            kind=kind, source=BounceEvent.Source.INBOUND, email=reader.email, campaign=campaign
        )
    campaign.refresh_from_db()
    return campaign


def test_the_dashboard_draws_the_servers_figures_with_chart_js(
    page: Any, sent_campaign: Campaign
) -> None:
    server = sent_per_day(DAYS_CHARTED)
    log_in(page, "/")
    expect(page.locator("figure[data-chart-drawn]")).to_have_count(1)

    chart = page.evaluate(READ_CHART, ".main")
    assert chart is not None, "no Chart instance is bound to the canvas"
    assert chart["type"] == "bar"
    assert chart["width"] > 600 and chart["height"] > 150
    assert chart["labels"] == [day.strftime("%b %d") for day, _ in server]
    assert chart["values"] == [[count for _, count in server]]
    assert sum(chart["values"][0]) == 50
    # The figures are on the page for those who cannot see the canvas.
    label = page.locator("figure[data-chart] canvas").get_attribute("aria-label")
    peak = max(count for _, count in server)
    assert label == f"Messages sent per day: 50 messages in all, at most {peak} per bar"
    page.get_by_text("Show figures").click()
    today = page.locator("figure[data-chart] tbody tr").last
    expect(today.locator("th")).to_have_text(server[-1][0].strftime("%b %d"))
    expect(today.locator("td")).to_have_text(str(server[-1][1]))
    page.screenshot(path=str(SCREENSHOTS / "postino-dashboard-chart.png"), full_page=True)


def test_the_operations_chart_is_redrawn_not_piled_up_when_the_page_refreshes(
    page: Any, sent_campaign: Campaign
) -> None:
    log_in(page, "/operations/")
    expect(page.locator("[data-ops-live] figure[data-chart-drawn]")).to_have_count(1)
    before = page.evaluate(READ_CHART, "[data-ops-live]")
    assert before is not None and before["instances"] == 1
    assert sum(before["values"][0]) == 4  # the four sent 0, 14, 28 and 42 minutes ago

    # Three more sent this minute; the next refresh (3 s) brings them.
    more = add_audience(make_list("More"), 3, prefix="late")
    Delivery.objects.bulk_create(
        Delivery(campaign=sent_campaign, subscriber=r, status="sent", sent_at=timezone.now())
        for r in more
    )
    page.wait_for_function(
        "() => { const c = document.querySelector('[data-ops-live] figure[data-chart] canvas');"
        " const chart = c && window.Chart.getChart(c);"
        " return chart && chart.data.datasets[0].data.reduce((a, b) => a + b, 0) === 7; }",
        timeout=10_000,
    )
    after = page.evaluate(READ_CHART, "[data-ops-live]")
    assert after["id"] != before["id"]  # a new Chart...
    assert after["seen"] == str(after["id"])  # ...on the new canvas (the old one was marked)
    assert (after["figures"], after["instances"]) == (1, 1)  # the old Chart was destroyed
    assert after["animation"] is False  # live redraws do not grow from zero
    assert after["width"] > 600 and after["height"] > 150


@pytest.mark.parametrize("path", ["/", "/operations/", "campaign", "/bounces/"])
def test_no_page_with_charts_scrolls_sideways_on_a_1280_px_laptop(
    page: Any, sent_campaign: Campaign, path: str
) -> None:
    if path == "campaign":
        path = f"/campaigns/{sent_campaign.pk}/"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.emulate_media(reduced_motion="reduce")  # drawn at once: the screenshot shows the bars
    log_in(page, path)
    expect(page.locator("figure[data-chart-drawn]").first).to_be_visible()
    slug = path.strip("/").replace("/", "-") or "dashboard"
    page.screenshot(path=str(SCREENSHOTS / f"postino-1280-{slug}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


def test_a_chart_takes_its_colour_from_the_stylesheet_around_it(
    page: Any, sent_campaign: Campaign
) -> None:
    log_in(page, "/bounces/")
    expect(page.locator("figure[data-chart-drawn]")).to_have_count(3)
    colours = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll("[data-chart] > figure")].map(
          (f) => [f.parentElement.dataset.chart,
                  window.Chart.getChart(f.querySelector("canvas")).data.datasets[0].backgroundColor]))"""
    )
    # The bounce page sets --accent per kind; the dashboard's bars use the default.
    assert colours == {"hard": "#c53030", "soft": "#b7791f", "complaint": "#6b46c1"}
