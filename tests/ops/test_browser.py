"""The operations page in a real headless Chromium: it refreshes itself."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from postino.redis import redis_client
from tests.conftest import PASSWORD
from tests.ops.conftest import Ledger, make_campaign
from tests.ops.world import build_world
from tests.support.browser import BROWSER_MARKS, expect

SCREENSHOT = Path("/tmp/postino-ops.png")

pytestmark = BROWSER_MARKS


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
