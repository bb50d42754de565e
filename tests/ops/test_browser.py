"""The operations page in a real headless Chromium: it refreshes itself."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Campaign
from delivery.models import Delivery
from postino.redis import redis_client
from tests.conftest import PASSWORD
from tests.ops.conftest import Ledger, make_campaign
from tests.ops.world import build_world

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = Path("/tmp/postino-ops.png")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed"),
]

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect


@pytest.fixture(scope="module")
def live_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    # Plain HTTP, set before the server thread builds its handler (see tests/web/conftest.py).
    plain_http = override_settings(
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    )
    plain_http.enable()
    server = LiveServer("localhost:0")
    try:
        yield server
    finally:
        server.stop()
        plain_http.disable()


@pytest.fixture
def page(live_server: LiveServer) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": 1360, "height": 900}
        )
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        browser.close()


def busy_hour(ledger: Ledger) -> None:
    """Sends spread over the last hour, so the throughput chart has a shape."""
    campaign = make_campaign("Autumn sale", status=Campaign.Status.RUNNING)
    now = timezone.now()
    for minute in range(1, 58, 2):
        count = int(20 + 15 * math.sin(minute / 9) + minute / 3)
        ledger.add(
            campaign,
            count,
            status=Delivery.Status.SENT,
            sent_at=now - timedelta(minutes=minute),
            domain="example.net",
        )
    ledger.add(campaign, 4000, domain="example.net")


@pytest.fixture
def busy_world(transactional_db: None) -> None:
    # Built before Playwright starts: ORM calls made inside its sync API run in
    # another context, on a connection the test database's teardown trips over.
    User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)
    ledger = Ledger()
    build_world(ledger, 3)
    busy_hour(ledger)


def test_the_page_refreshes_itself_with_new_numbers(busy_world: None, page: Any) -> None:
    page.goto("/operations/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/operations/$"))
    expect(page.get_by_role("heading", name="Running campaigns")).to_be_visible()
    expect(page.locator('[data-stat="queue"]')).to_have_text("0")

    # The queue grows; the next poll (3 s) shows it without a reload.
    redis_client().rpush("postino", *[f"task-{i}" for i in range(7)])
    expect(page.locator('[data-stat="queue"]')).to_have_text("7", timeout=8_000)

    page.screenshot(path=str(SCREENSHOT), full_page=True)
