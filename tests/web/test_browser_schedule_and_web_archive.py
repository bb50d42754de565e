"""In a real headless Chromium: schedule a campaign in a chosen zone, change the
schedule, unschedule it; then, signed out, read the public web archive and
follow a campaign from its list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in

pytestmark = BROWSER_MARKS

YEAR = timezone.now().year + 1


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def newsletter(transactional_db: None) -> MailingList:
    newsletter = create_list(name="Newsletter")
    create_subscriber(email="rosa@example.com", name="Rosa Realname", lists=[newsletter])
    return newsletter


def _campaign(newsletter: MailingList, name: str, subject: str) -> Campaign:
    server = SmtpServer.objects.filter(name="Relay").first() or create_smtp_server(
        name="Relay", host="127.0.0.1", port=1025, security="none"
    )
    return create_campaign(
        name=name,
        subject=subject,
        from_email="news@example.com",
        html="<p>Dear {{ subscriber.name }},</p><p><a href='{{ unsubscribe_url }}'>Leave</a></p>",
        lists=[newsletter],
        smtp_server=server,
    )


def test_schedule_change_unschedule_then_read_the_public_archive(
    page: Any, live_server: Any, staff: User, newsletter: MailingList
) -> None:
    campaign = _campaign(newsletter, "April news", "April at the garden")
    log_in(page, f"/campaigns/{campaign.pk}/")

    page.fill("#id_scheduled_at", f"{YEAR}-03-01T09:00")
    page.select_option("#id_schedule_timezone", "Europe/Berlin")
    page.get_by_role("button", name="Start").click()
    expect(page.locator('[data-role="confirm-question"]')).to_contain_text(
        f"for {YEAR}-03-01 09:00 Europe/Berlin (08:00 UTC)"
    )
    page.get_by_role("button", name="Confirm schedule").click()
    expect(page.locator('[data-role="schedule"]')).to_have_text(
        f"Starts {YEAR}-03-01 09:00 Europe/Berlin (08:00 UTC)"
    )
    campaign.refresh_from_db()
    assert campaign.scheduled_at == datetime(YEAR, 3, 1, 8, 0, tzinfo=UTC)

    # The change form starts from the schedule as it was entered.
    expect(page.locator("#id_re-scheduled_at")).to_have_value(f"{YEAR}-03-01T09:00")
    page.fill("#id_re-scheduled_at", f"{YEAR}-03-02T18:30")
    page.select_option("#id_re-schedule_timezone", "America/New_York")
    page.get_by_role("button", name="Change schedule").click()
    expect(page.locator(".flash-success")).to_have_text(
        f"Schedule changed: starts {YEAR}-03-02 18:30 America/New_York (23:30 UTC)."
    )
    campaign.refresh_from_db()
    assert campaign.scheduled_at == datetime(YEAR, 3, 2, 23, 30, tzinfo=UTC)

    page.get_by_role("button", name="Unschedule").click()
    expect(page.locator('[data-role="status"]')).to_have_text("Draft")
    expect(page.locator("#id_scheduled_at")).to_be_visible()
    campaign.refresh_from_db()
    assert (campaign.status, campaign.scheduled_at) == (Campaign.Status.DRAFT, None)

    # Another campaign went out with the archive opt-in; a visitor reads it.
    sent = _campaign(newsletter, "Internal: March push", "March at the garden")
    Campaign.objects.filter(pk=sent.pk).update(
        public_archive=True,
        status=Campaign.Status.FINISHED,
        started_at=timezone.now() - timedelta(days=2),
        preheader="Tulips are out",
    )
    visitor = page.context.browser.new_context().new_page()
    visitor.goto(f"{live_server.url}/archive/")
    expect(visitor.get_by_role("heading", name="Newsletter archive")).to_be_visible()
    expect(visitor.locator('[data-role="archive-list"] li')).to_have_count(1)
    expect(visitor.locator("body")).not_to_contain_text("Internal: March push")
    visitor.screenshot(path=str(SCREENSHOTS / "postino-web-archive.png"), full_page=True)
    visitor.get_by_role("link", name="March at the garden").click()
    expect(visitor.get_by_role("heading", name="March at the garden")).to_be_visible()
    message = visitor.frame_locator("iframe.message")
    expect(message.locator("body")).to_contain_text("Dear Sample Subscriber,")
    expect(message.locator("body")).not_to_contain_text("Rosa Realname")
    expect(message.get_by_role("link", name="Leave")).to_have_attribute("href", "#")
    visitor.screenshot(path=str(SCREENSHOTS / "postino-web-archive-campaign.png"), full_page=True)


def test_a_fresh_schedule_form_starts_in_the_browsers_zone(
    browser: Any, live_server: Any, staff: User, newsletter: MailingList
) -> None:
    campaign = _campaign(newsletter, "May news", "May at the garden")
    context = browser.new_context(base_url=live_server.url, timezone_id="Asia/Tokyo")
    try:
        tab = context.new_page()
        log_in(tab, f"/campaigns/{campaign.pk}/")
        expect(tab.locator("#id_schedule_timezone")).to_have_value("Asia/Tokyo")
    finally:
        context.close()
