"""Starting, scheduling and watching a send, in a real headless Chromium."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import Delivery
from delivery.services import create_smtp_server
from subscribers.models import MailingList
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.factories import add_audience, make_campaign, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def newsletter(transactional_db: None) -> MailingList:
    newsletter = create_list(name="Newsletter")
    for i in range(3):
        create_subscriber(email=f"reader{i}@example.com", name=f"Reader {i}", lists=[newsletter])
    return newsletter


def _draft(newsletter: MailingList, *, port: int = 1025) -> Campaign:
    server = create_smtp_server(name="Relay", host="127.0.0.1", port=port, security="none")
    return create_campaign(
        name="March news",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=server,
    )


def test_start_asks_for_confirmation_showing_how_many_people_it_reaches(
    page: Any, staff: User, newsletter: MailingList, clean_redis: None
) -> None:
    campaign = _draft(newsletter)
    log_in(page, f"/campaigns/{campaign.pk}/")
    expect(page.locator('[data-role="audience-size"]')).to_contain_text("Reaches 3 people")
    expect(page.locator("#id_schedule_timezone")).to_be_visible()

    page.get_by_role("button", name="Start").click()
    expect(page.locator('[data-role="confirm-question"]')).to_have_text(
        "Send “March news” to 3 people now via Relay?"
    )
    page.screenshot(path=str(SCREENSHOTS / "postino-start-confirm.png"), full_page=True)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT  # nothing starts before the confirmation

    page.get_by_role("link", name="Back").click()
    expect(page.get_by_role("heading", name="March news")).to_be_visible()
    page.get_by_role("button", name="Start").click()
    page.get_by_role("button", name="Confirm and send").click()
    expect(page.locator(".flash-success")).to_have_text("Campaign started.")
    expect(page.locator('[data-role="status"]')).to_have_text("Running")
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert Delivery.objects.filter(campaign=campaign).count() == 3


def test_a_schedule_in_the_past_is_refused_beside_the_field(
    page: Any, staff: User, newsletter: MailingList
) -> None:
    campaign = _draft(newsletter)
    log_in(page, f"/campaigns/{campaign.pk}/")
    page.fill("#id_scheduled_at", "2020-01-01T09:00")
    page.select_option("#id_schedule_timezone", "UTC")
    page.get_by_role("button", name="Start").click()
    expect(page.locator("#field-scheduled_at .field-errors")).to_have_text(
        re.compile(r"2020-01-01 09:00 \(UTC\) has already passed")
    )
    page.screenshot(path=str(SCREENSHOTS / "postino-start-past.png"), full_page=True)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_a_future_schedule_is_confirmed_with_its_time_zone(
    page: Any, staff: User, newsletter: MailingList
) -> None:
    campaign = _draft(newsletter)
    log_in(page, f"/campaigns/{campaign.pk}/")
    page.fill("#id_scheduled_at", "2999-01-01T09:00")
    page.select_option("#id_schedule_timezone", "UTC")
    page.get_by_role("button", name="Start").click()
    expect(page.locator('[data-role="confirm-question"]')).to_have_text(
        "Schedule “March news” for 2999-01-01 09:00 UTC to about 3 people via Relay?"
    )
    page.get_by_role("button", name="Confirm schedule").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Campaign scheduled for 2999-01-01 09:00 UTC."
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at is not None and campaign.scheduled_at.year == 2999


def test_a_start_that_reaches_nobody_says_so_and_offers_no_confirmation(
    page: Any, staff: User
) -> None:
    empty = create_list(name="Empty")
    campaign = _draft(empty)
    log_in(page, f"/campaigns/{campaign.pk}/")
    page.get_by_role("button", name="Start").click()
    expect(page.locator('[data-role="confirm-question"]')).to_contain_text(
        "Nobody would receive “March news”"
    )
    expect(page.get_by_role("button", name="Confirm and send")).to_have_count(0)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


# Read in one go, so the figures compared are those on screen at one moment.
READ_FIGURES = """() => {
  const number = (el) => el ? parseInt(el.textContent.replace(/[^0-9]/g, ""), 10) : null;
  const chart = document.querySelector('[data-role="activity"] [data-role="chart"] canvas');
  const total = chart && chart.getAttribute("aria-label").match(/: ([0-9,]+) messages in all/);
  return {
    status: document.querySelector('[data-role="status"]').textContent.trim(),
    sent: number(document.querySelector('[data-stat="sent"]')),
    failed: number(document.querySelector('[data-stat="failed"]')),
    bounceSent: number(document.querySelector('[data-role="activity"] [data-figure="sent"]')),
    chartTotal: total ? parseInt(total[1].replace(/,/g, ""), 10) : 0,
    bounceRate: document.querySelector('[data-figure="bounce-rate"]').parentElement.textContent,
    finished: document.querySelector('dd[data-time="finished_at"]').hidden
      ? "" : document.querySelector('dd[data-time="finished_at"]').textContent,
  };
}"""


@pytest.mark.worker
def test_progress_chart_and_bounce_figures_move_together_during_a_real_send(
    page: Any,
    staff: User,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    worker_logs: Path,
) -> None:
    newsletter = create_list(name="Newsletter")
    add_audience(newsletter, 60)
    smtpd.handler.refuse_always["reader7@example.org"] = "550 5.1.1 No such user here"
    campaign = make_campaign(lists=[newsletter], server=make_smtp_server(smtpd, rate=6))

    with running_workers(worker_logs, concurrency=1):
        log_in(page, f"/campaigns/{campaign.pk}/")
        page.evaluate("window.__notReloaded = true")
        page.get_by_role("button", name="Start").click()
        page.get_by_role("button", name="Confirm and send").click()
        expect(page.locator('[data-role="status"]')).to_have_text("Running")
        page.evaluate("window.__notReloaded = true")

        # Mid-send, each poll's figures agree with one another.
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            figures = page.evaluate(READ_FIGURES)
            if figures["status"] != "Running":
                break
            if figures["sent"]:
                seen.append(figures)
                assert figures["bounceSent"] == figures["sent"], figures
                assert figures["chartTotal"] == figures["sent"], figures
                if len({f["sent"] for f in seen}) >= 3:
                    break  # watched it move three times
            page.wait_for_timeout(300)
        assert len({f["sent"] for f in seen}) >= 3, f"the page never moved: {seen}"
        page.screenshot(path=str(SCREENSHOTS / "postino-live-send.png"), full_page=True)

        # The end, without a reload: status, finished time and last figures together.
        expect(page.locator('[data-role="status"]')).to_have_text("Finished", timeout=60_000)
        final = page.evaluate(READ_FIGURES)
        assert (final["sent"], final["failed"]) == (59, 1)
        assert final["bounceSent"] == final["chartTotal"] == 59
        assert "1 of 60" in final["bounceRate"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", final["finished"])
        assert page.evaluate("window.__notReloaded") is True
        # What a finished campaign offers appears with it: Archive, no Pause.
        expect(page.get_by_role("button", name="Archive")).to_be_visible()
        expect(page.get_by_role("button", name="Pause")).to_be_hidden()
        page.screenshot(path=str(SCREENSHOTS / "postino-live-finished.png"), full_page=True)

    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 59
