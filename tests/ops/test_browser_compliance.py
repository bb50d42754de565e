"""The operations page in a real headless Chromium: the complaint alert, its
update without a reload, and no horizontal scrolling on a laptop screen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from delivery import domains, ops_views
from delivery.models import Delivery
from tests.conftest import PASSWORD
from tests.ops.conftest import Ledger, make_campaign
from tests.ops.test_compliance_rates import report
from tests.ops.world import build_world
from tests.support.browser import BROWSER_MARKS, expect, log_in

pytestmark = BROWSER_MARKS


@pytest.fixture
def complaining_world(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A busy moment (180 messages sent) whose last day has 1 complaint per 1,000 sent."""
    User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)
    ledger = Ledger()
    build_world(ledger, 3)
    domains.create_sending_domain(domain="example.com", generate_rsa=False)
    campaign = make_campaign("Winter sale")
    ledger.add(
        campaign, 820, status=Delivery.Status.SENT, sent_at=timezone.now() - timedelta(hours=5)
    )
    report("complaint", at=timezone.now() - timedelta(hours=1))
    # The panel's own poll, made quick so the test does not wait 15 s for it.
    monkeypatch.setattr(ops_views, "COMPLIANCE_POLL_SECONDS", 1)


def test_a_new_complaint_turns_the_warning_critical_without_a_reload(
    complaining_world: None, page: Any
) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, "/operations/")
    alert = page.get_by_test_id("complaint-alert")
    expect(alert).to_contain_text("Warning: the complaint rate is at or above 0.1%.")
    expect(page.locator('[data-window="1"] [data-col="complaint-rate"]')).to_have_text(
        "0.1% · warning"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280

    report("complaint", at=timezone.now(), count=2)  # 3 in 1,000: critical

    expect(alert).to_contain_text("Critical: the complaint rate has reached 0.3%.", timeout=8_000)
    expect(page.locator('[data-window="1"] [data-col="complaint-rate"]')).to_have_text(
        "0.3% · critical"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    page.screenshot(path="/tmp/postino-ops-compliance.png", full_page=True)
