"""Opens and clicks end to end: a real send, its pixel and a link fetched as a
person and as a scanner, the report counting them apart (and a viewer seeing
its chart); real workers ingest."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from postino.permissions import VIEWERS_GROUP
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.factories import make_campaign, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers
from tracking import ingest, links

pytestmark = BROWSER_MARKS

PERSON = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15"
)
SCANNER = "Mozilla/5.0 (compatible; Barracuda Sentinel link protection)"


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def test_a_person_and_a_scanner_are_counted_apart_in_the_report(
    page: Any,
    browser: Any,
    staff: User,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    worker_logs: Path,
    live_server: Any,
) -> None:
    newsletter = create_list(name="Newsletter")
    create_subscriber(email="reader@example.org", name="Reader", lists=[newsletter])
    campaign = make_campaign(lists=[newsletter], server=make_smtp_server(smtpd))
    Campaign.objects.filter(pk=campaign.pk).update(
        html='<p>Hi {{ subscriber.name }}, <a href="https://shop.example/spring">the sale</a>.</p>',
        track_opens=True,
        track_clicks=True,
    )

    with running_workers(worker_logs, concurrency=1):
        log_in(page, f"/campaigns/{campaign.pk}/")
        page.get_by_role("button", name="Start").click()
        page.get_by_role("button", name="Confirm and send").click()
        expect(page.locator('[data-role="status"]')).to_have_text("Finished", timeout=60_000)

        (message,) = smtpd.handler.messages
        body = message.parsed().get_body(("html",))
        assert body is not None
        html = str(body.get_content())

        # The reader opens it an hour later: a click seconds after delivery is a scanner's.
        Delivery.objects.filter(campaign=campaign).update(
            sent_at=timezone.now() - timedelta(hours=1)
        )

        def local(url: str) -> str:
            return url.replace(settings.BASE_URL, live_server.url)

        pixel = local(re.search(r'<img src="([^"]+/t/o/[^"]+)"', html).group(1))  # type: ignore[union-attr]
        link = local(re.search(r'href="([^"]+/t/c/[^"]+)"', html).group(1))  # type: ignore[union-attr]
        assert page.request.get(pixel, headers={"User-Agent": PERSON}).status == 200
        clicked = page.request.get(link, headers={"User-Agent": PERSON}, max_redirects=0)
        assert (clicked.status, clicked.headers["location"]) == (302, "https://shop.example/spring")
        scanned = page.request.get(link, headers={"User-Agent": SCANNER}, max_redirects=0)
        assert scanned.status == 302
        tampered = link[:-4] + ("AAAA" if not link.endswith("AAAA") else "BBBB")
        assert page.request.get(tampered, max_redirects=0).status == 404

        # The worker's beat ingests within a second or two; the page shows it on reload.
        for _ in range(40):
            page.reload()
            if page.locator('[data-testid="machine-clicks"]').inner_text() == "1":
                break
            page.wait_for_timeout(500)
    expect(page.locator('[data-testid="human-opens"]')).to_have_text("1")
    expect(page.locator('[data-testid="human-clicks"]')).to_have_text("1")
    expect(page.locator('[data-testid="machine-clicks"]')).to_have_text("1")
    drawn = page.locator('#results [data-role="chart"][data-chart-drawn] canvas')
    expect(drawn.first).to_be_visible()
    expect(page.locator('[data-role="links"]')).to_contain_text("https://shop.example/spring")
    page.locator("#results").screenshot(path=str(SCREENSHOTS / "postino-campaign-results.png"))

    # A viewer, who may change nothing, sees the same report and its chart.
    viewer = User.objects.create_user("ivy", "ivy@example.com", PASSWORD, is_staff=True)
    viewer.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    own = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    try:
        tab = own.new_page()
        log_in(tab, f"/campaigns/{campaign.pk}/", username="ivy")
        expect(tab.locator('[data-testid="human-clicks"]')).to_have_text("1")
        chart = tab.locator('#results [data-role="chart"][data-chart-drawn] canvas').first
        expect(chart).to_be_visible()
        opens = tab.evaluate(
            """() => Chart.getChart(document.querySelector('#results figure[data-chart] canvas'))
                .data.datasets.map(d => d.data.reduce((a, b) => a + b, 0))"""
        )
        assert opens == [1, 0]  # one open by a person, none by a proxy
    finally:
        own.close()


def test_tracking_settings_engagement_and_a_recipients_click_in_the_browser(
    page: Any, browser: Any, staff: User, live_server: Any, clean_redis: None
) -> None:
    newsletter = create_list(name="Newsletter")
    ada = create_subscriber(email="ada@example.org", name="Ada", lists=[newsletter])
    create_subscriber(email="bob@example.org", name="Bob", lists=[newsletter])

    # The campaign form: clicks off, opens on, kept when edited again.
    log_in(page, "/campaigns/new/")
    page.get_by_label("Name", exact=True).fill("Autumn")
    page.get_by_label("Subject").fill("Hello")
    page.get_by_label("Newsletter").check()
    expect(page.get_by_label("Track opens")).to_be_checked()
    page.get_by_label("Track clicks").uncheck()
    page.get_by_role("button", name="Save draft").click()
    campaign = Campaign.objects.get(name="Autumn")
    assert (campaign.track_opens, campaign.track_clicks, campaign.tracking_privacy) == (
        True,
        False,
        False,
    )
    page.goto(f"/campaigns/{campaign.pk}/edit/")
    expect(page.get_by_label("Track clicks")).not_to_be_checked()
    expect(page.get_by_label("Track opens")).to_be_checked()

    # A recipient, not signed in, clicks a link in the message and lands where it points.
    destination = f"{live_server.url}/healthz"
    # (As a reader's own browser: a headless one's user agent says it is a machine.)
    reader = browser.new_context(user_agent=PERSON)
    try:
        tab = reader.new_page()
        tab.goto(live_server.url + links.click_path(campaign.pk, ada.pk, destination))
        expect(tab).to_have_url(destination)
        forged = links.click_path(campaign.pk, ada.pk, destination)[:-4] + "AAAA"
        assert tab.goto(live_server.url + forged).status == 404
    finally:
        reader.close()

    # The ingested click and an open show on the subscriber page and in a segment.
    Delivery.objects.create(
        campaign=campaign,
        subscriber=ada,
        status=Delivery.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=1),
    )
    ingest.drain()
    page.goto(f"/subscribers/{ada.pk}/")
    expect(page.locator('#messages [data-role="clicked"]')).to_contain_text("1\u00d7 \u00b7 last")
    page.goto("/segments/new/")
    row = page.locator(".segment-row").first
    row.get_by_label("Field").select_option("clicked")
    row.get_by_label("Comparison").select_option("in_last_days")
    row.get_by_label("Days").fill("7")
    expect(page.locator('[data-role="segment-count"]')).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "postino-segment-clicked.png"))
