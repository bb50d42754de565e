"""Drive the marketer UI in a real headless Chromium against the live server."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import Delivery
from delivery.services import create_smtp_server
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in, write_html_body

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


BAD_HTML = "<h1>Hello {{ subscriber.name }}</h1>\n<p>News of the month.</p>\n{% if %}\n"
GOOD_HTML = (
    "<h1>Hello {{ subscriber.name }}</h1>\n<p>News from {{ subscriber.attributes.city }}.</p>\n"
)


def test_a_marketer_sets_up_and_previews_a_campaign(page: Any, staff: User) -> None:
    log_in(page)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    # A list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Lists").click()
    page.get_by_role("link", name="New list").click()
    page.fill("#id_name", "Newsletter")
    page.get_by_label("Single opt-in").check()
    page.fill("#id_description", "Monthly news")
    page.get_by_role("button", name="Create list").click()
    expect(page.locator(".flash-success")).to_have_text("List “Newsletter” created.")
    expect(page.get_by_role("heading", name="Newsletter")).to_be_visible()

    # A subscriber, added from the list page (the list comes preselected).
    page.get_by_role("link", name="Add subscriber").first.click()
    expect(page.get_by_label("Newsletter")).to_be_checked()
    page.fill("#id_email", "not an address")
    page.get_by_role("button", name="Add subscriber").click()
    expect(page.locator("#field-email .field-errors")).to_have_text(
        re.compile("Enter a valid email address")
    )
    page.fill("#id_email", "bea@example.com")
    page.fill("#id_name", "Bea")
    page.fill("#id_attributes", '{"city": "Lisbon"}')
    page.get_by_role("button", name="Add subscriber").click()
    expect(page.locator(".flash-success")).to_have_text("Subscriber bea@example.com added.")
    expect(page.locator("main")).to_contain_text("Lisbon")

    # An SMTP server.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sending servers").click()
    page.get_by_role("link", name="Add your first server").click()
    page.fill("#id_name", "Local catcher")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_port", "1025")
    page.select_option("#id_security", "none")
    page.get_by_role("button", name="Add server").click()
    expect(page.locator(".flash-success")).to_have_text("SMTP server “Local catcher” added.")

    # A campaign with a broken template: the error sits beside the HTML field.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    page.get_by_role("link", name="New campaign").click()
    page.fill("#id_name", "March news")
    page.fill("#id_subject", "News for {{ subscriber.name }}")
    page.fill("#id_from_email", "News <news@example.com>")
    page.get_by_label("Newsletter").check()
    page.select_option("#id_smtp_server", label="Local catcher (127.0.0.1:1025)")
    write_html_body(page, BAD_HTML)
    page.get_by_role("button", name="Save draft").click()
    html_error = page.locator("#field-html .field-errors")
    expect(html_error).to_have_text(re.compile(r"^\W*Line 3: "))
    expect(page.locator("#id_name")).to_have_value("March news")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-form-error.png"), full_page=True)

    # Fixed, it saves.
    write_html_body(page, GOOD_HTML)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_have_text("Campaign “March news” saved as a draft.")
    expect(page.locator('[data-role="status"]')).to_have_text("Draft")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-draft.png"), full_page=True)

    # Preview for a real subscriber, picked from the list's members.
    page.get_by_role("link", name="Preview").click()
    expect(page.locator('[data-role="preview-subject"]')).to_have_text("News for Sample Subscriber")
    page.select_option("#id_subscriber", label="bea@example.com")
    page.get_by_role("button", name="Show preview").click()
    expect(page.locator('[data-role="preview-subject"]')).to_have_text("News for Bea")
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.locator("h1")).to_have_text("Hello Bea")
    expect(frame.locator("p")).to_have_text("News from Lisbon.")
    expect(page.locator('[data-role="preview-text"]')).to_contain_text("News from Lisbon.")
    page.screenshot(path=str(SCREENSHOTS / "postino-preview.png"), full_page=True)

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_test_id("subscriber-count")).to_have_text("1")
    page.screenshot(path=str(SCREENSHOTS / "postino-dashboard.png"), full_page=True)


def test_a_running_campaign_updates_live_without_reloading(page: Any, staff: User) -> None:
    newsletter = create_list(name="Newsletter")
    for i in range(4):
        create_subscriber(email=f"reader{i}@example.com", name=f"Reader {i}", lists=[newsletter])
    server = create_smtp_server(name="Relay", host="127.0.0.1", port=1025, security="none")
    campaign = create_campaign(
        name="Live one",
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=server,
    )
    # The send pipeline is not under test: put the campaign in the state
    # start_campaign leaves it in, with its ledger rows pending.
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    for subscriber in newsletter.subscriptions.values_list("subscriber_id", flat=True):
        Delivery.objects.create(campaign=campaign, subscriber_id=subscriber)

    log_in(page, f"/campaigns/{campaign.pk}/")
    expect(page.locator('[data-stat="total"]')).to_have_text("4")
    expect(page.locator('[data-stat="sent"]')).to_have_text("0")
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.evaluate("window.__notReloaded = true")

    first_two = Delivery.objects.filter(campaign=campaign).order_by("id")[:2]
    Delivery.objects.filter(pk__in=[d.pk for d in first_two]).update(status=Delivery.Status.SENT)
    expect(page.locator('[data-stat="sent"]')).to_have_text("2")
    expect(page.locator('[data-stat="pending"]')).to_have_text("2")
    expect(page.locator('[data-role="progress-bar"]')).to_have_attribute(
        "style", re.compile(r"width: 50%")
    )
    expect(page.locator('[data-role="progress"]')).to_have_attribute("aria-valuenow", "50")

    third = Delivery.objects.filter(campaign=campaign, status="pending").order_by("id")[0]
    Delivery.objects.filter(pk=third.pk).update(status=Delivery.Status.FAILED)
    expect(page.locator('[data-stat="failed"]')).to_have_text("1")
    expect(page.locator('[data-stat="percent"]')).to_have_text("75")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-running.png"), full_page=True)

    # A status change (the pipeline auto-pausing) shows up, with its reason
    # and the controls that now apply.
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.PAUSED, status_reason="Paused: too many failures"
    )
    expect(page.locator('[data-role="status"]')).to_have_text("Paused")
    expect(page.locator('[data-role="status-reason"]')).to_have_text("Paused: too many failures")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    expect(page.get_by_role("button", name="Pause")).to_be_hidden()

    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.FINISHED, status_reason=""
    )
    expect(page.locator('[data-role="status"]')).to_have_text("Finished")
    expect(page.get_by_role("button", name="Resume")).to_be_hidden()
    expect(page.get_by_role("button", name="Cancel campaign")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True


def test_a_marketer_shapes_traffic_with_limits_warm_up_and_extra_servers(
    page: Any, staff: User
) -> None:
    newsletter = create_list(name="Newsletter")
    create_smtp_server(name="Backup", host="127.0.0.1", port=2525, security="none")
    log_in(page, "/smtp/")

    # A domain limit, reached from the SMTP servers page; errors sit beside the field.
    page.get_by_role("link", name="Domain limits").click()
    expect(page.get_by_role("heading", name="Domain limits")).to_be_visible()
    page.get_by_role("link", name="Add domain limit").click()
    page.fill("#id_domain", "someone@example.org")
    page.fill("#id_messages_per_minute", "45")
    page.get_by_role("button", name="Add limit").click()
    expect(page.locator("#field-domain .field-errors")).to_contain_text("Enter a domain name")
    page.fill("#id_domain", "Example.ORG")
    page.get_by_role("button", name="Add limit").click()
    expect(page.locator(".flash-success")).to_have_text("Limit for example.org added.")
    expect(page.get_by_role("link", name="example.org")).to_be_visible()

    # A server warming up: the hourly limit may not exceed the daily one.
    page.goto("/smtp/new/")
    page.fill("#id_name", "Fresh IP")
    page.fill("#id_host", "127.0.0.1")
    page.fill("#id_port", "1025")
    page.select_option("#id_security", "none")
    page.fill("#id_messages_per_hour", "5000")
    page.fill("#id_messages_per_day", "1000")
    page.fill("#id_warmup_start_per_day", "100")
    page.fill("#id_warmup_growth_factor", "2")
    page.get_by_role("button", name="Add server").click()
    expect(page.locator("#field-messages_per_hour .field-errors")).to_contain_text(
        "cannot be more than the daily limit (1000)"
    )
    page.fill("#id_messages_per_hour", "500")
    page.get_by_role("button", name="Add server").click()
    expect(page.locator(".flash-success")).to_have_text("SMTP server “Fresh IP” added.")
    expect(page.locator('[data-role="effective-daily-limit"]')).to_have_text("100 messages")
    expect(page.locator('[data-role="warmup-ramp"] tbody tr')).to_have_count(7)
    page.screenshot(path=str(SCREENSHOTS / "postino-smtp-warmup.png"), full_page=True)

    # A campaign sharing its traffic with the backup server, 3 to 1.
    page.goto("/campaigns/new/")
    page.fill("#id_name", "Spread out")
    page.fill("#id_subject", "Hello")
    page.get_by_label(newsletter.name).check()
    page.select_option("#id_smtp_server", label="Fresh IP (127.0.0.1:1025)")
    page.fill("#id_smtp_weight", "3")
    page.select_option("#id_servers-0-smtp_server", label="Backup (127.0.0.1:2525)")
    page.fill("#id_max_error_rate", "10")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    servers = page.locator('[data-role="campaign-servers"]')
    expect(servers).to_contain_text("weight 3 · about 75% · main")
    expect(servers).to_contain_text("weight 1 · about 25%")
    expect(page.locator('[data-role="thresholds"]')).to_contain_text("more than 10% of attempts")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-servers.png"), full_page=True)
