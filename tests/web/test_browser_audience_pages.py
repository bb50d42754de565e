"""Staff pages of the audience work, clicked through in headless Chromium:
the blocklist, signup forms, system mail, bulk actions, background exports,
a list's confirmation email and the subscriber's history."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from delivery.models import SmtpServer
from postino import jobs
from subscribers import bulk, consent, exports, services
from subscribers.models import BlocklistEntry, BulkAction, Export, MailingList, Subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.jobs import QueuedJobs

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture(autouse=True)
def _export_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "EXPORT_DIR": tmp_path / "exports"}


def accept_dialogs(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_the_blocklist_takes_lines_names_a_bad_one_and_removes(page: Any, staff: User) -> None:
    accept_dialogs(page)
    log_in(page, "/blocklist/")
    page.get_by_label("Add to the blocklist").fill("spam@example.com\nnot a domain\n*.bots.test")
    page.get_by_role("button", name="Add").click()
    expect(page.locator(".field-errors")).to_contain_text(
        "Line 2: “not a domain” is neither an address nor a domain."
    )
    assert not BlocklistEntry.objects.exists()
    page.get_by_label("Add to the blocklist").fill("spam@example.com\n*.bots.test")
    page.get_by_label("Note").fill("seen in complaints")
    page.get_by_role("button", name="Add").click()
    expect(page.get_by_text("2 added to the blocklist.")).to_be_visible()
    table = page.locator("#blocklist")
    expect(table.get_by_role("row")).to_have_count(3)
    page.screenshot(path=str(SCREENSHOTS / "blocklist.png"), full_page=True)
    page.get_by_role("button", name="Remove *.bots.test").click()
    expect(page.get_by_text("“*.bots.test” is no longer on the blocklist.")).to_be_visible()
    assert list(BlocklistEntry.objects.values_list("value", flat=True)) == ["spam@example.com"]


def test_a_signup_form_is_made_its_snippet_shown_and_its_consent_versioned(
    page: Any, staff: User
) -> None:
    MailingList.objects.create(name="Weekly", optin="double")
    log_in(page, "/forms/")
    page.get_by_role("link", name="Create a form").click()
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_text("Give the form a name.")).to_be_visible()
    expect(page.get_by_text("Choose at least one list the form subscribes to.")).to_be_visible()
    page.get_by_label("Name", exact=True).fill("Footer")
    page.get_by_label("Address").fill("footer")
    page.get_by_label("Weekly").check()
    page.get_by_role("button", name="Create form").click()
    expect(page.get_by_text("Form “Footer” created.")).to_be_visible()
    snippet = page.get_by_label("Snippet")
    expect(snippet).to_have_value(re.compile(r'action="http[^"]+/s/join/footer/"'))
    expect(snippet).to_have_value(re.compile(r"js/signup\.js"))
    page.get_by_label("Consent text").fill("I agree to the weekly newsletter, version two.")
    page.get_by_role("button", name="Save form").click()
    expect(page.get_by_text("v2", exact=True)).to_be_visible()
    expect(page.get_by_text("v1", exact=True)).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "signup-form-staff.png"), full_page=True)
    page.get_by_role("link", name="Open the page").click()
    expect(page.get_by_role("heading", name="Subscribe to our newsletter")).to_be_visible()
    expect(page.locator('[data-role="consent"]')).to_have_text(
        "I agree to the weekly newsletter, version two."
    )


def test_system_mail_is_chosen_in_settings(page: Any, staff: User) -> None:
    SmtpServer.objects.create(name="Campaigns", host="127.0.0.1", port=2525, security="none")
    relay = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2526, security="none")
    log_in(page, "/settings/system-mail/")
    expect(page.locator('[data-role="effective"]')).to_contain_text("Campaigns")
    page.get_by_label("Send Postino's own mail through").select_option(str(relay.pk))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("System mail settings saved.")).to_be_visible()
    expect(page.locator('[data-role="effective"]')).to_contain_text("Relay")


def test_a_bulk_action_starts_from_the_filtered_index_and_shows_its_progress(
    page: Any, staff: User, queued_jobs: QueuedJobs
) -> None:
    news = MailingList.objects.create(name="News")
    vip = MailingList.objects.create(name="VIP")
    for n in range(7):
        services.create_subscriber(email=f"p{n}@example.com", lists=[news] if n < 5 else [])
    log_in(page, "/subscribers/")
    page.get_by_label("List").first.select_option(label="News")
    page.get_by_role("button", name="Search").click()
    expect(page.locator('[data-role="match-count"]')).to_have_text("5 subscribers match")
    page.get_by_text("Apply to all 5 matching subscribers…").click()
    page.locator("#id_kind").select_option("add")
    page.locator("#id_mailing_list").select_option(label="VIP")
    page.get_by_label("Yes, apply it to every subscriber these filters match").check()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("heading", name="Add to a list “VIP”")).to_be_visible()
    expect(page.locator("#bulk-status")).to_have_text("Queued")
    action = BulkAction.objects.get()
    assert queued_jobs.of(jobs.RUN_BULK_ACTION) == [(action.pk,)]
    bulk.run(action.pk)  # what the worker does
    # The page follows by itself, and stops once the action has ended.
    expect(page.locator("#bulk-status")).to_have_text("Finished", timeout=10_000)
    expect(page.locator("#bulk-changed")).to_have_text("5")
    page.screenshot(path=str(SCREENSHOTS / "bulk-action.png"), full_page=True)
    assert vip.subscriptions.count() == 5


def test_a_list_export_shows_progress_and_downloads(
    page: Any, staff: User, queued_jobs: QueuedJobs
) -> None:
    news = MailingList.objects.create(name="News")
    for n in range(3):
        services.create_subscriber(email=f"e{n}@example.com", lists=[news])
    log_in(page, f"/lists/{news.pk}/")
    page.get_by_role("button", name="Export CSV").click()
    expect(page.get_by_role("heading", name="Export of the list “News”")).to_be_visible()
    export = Export.objects.get()
    exports.run_export(export.pk)
    download_link = page.get_by_role("link", name=re.compile("Download the CSV"))
    expect(download_link).to_be_visible(timeout=10_000)
    with page.expect_download() as info:
        download_link.click()
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("email,name,status")
    assert sorted(line.split(",")[0] for line in lines[1:]) == [
        "e0@example.com",
        "e1@example.com",
        "e2@example.com",
    ]


def test_a_list_confirmation_email_error_shows_its_line(page: Any, staff: User) -> None:
    weekly = MailingList.objects.create(name="Weekly", optin="double")
    log_in(page, f"/lists/{weekly.pk}/edit/")
    page.get_by_text("Confirmation email (double opt-in)").click()
    page.get_by_label("Confirmation email: body (HTML)").fill("<p>Hi</p>\n<p>{% if %}</p>")
    page.get_by_role("button", name="Save list").click()
    expect(page.locator("#field-confirmation_html .field-errors")).to_contain_text(
        "Line 2: Expected an expression"
    )
    page.get_by_label("Confirmation email: body (HTML)").fill(
        '<p>Hi {{ subscriber.name }}</p><p><a href="{{ confirm_url }}">Confirm</a></p>'
    )
    page.get_by_role("button", name="Save list").click()
    expect(page.get_by_text("List “Weekly” saved.")).to_be_visible()


def test_the_subscriber_page_shows_the_consent_history(page: Any, staff: User) -> None:
    news = MailingList.objects.create(name="News")
    ada = services.create_subscriber(
        email="ada@example.com", lists=[news], origin=consent.Origin(via="api", actor=staff)
    )
    services.unsubscribe(subscriber_id=ada.pk, reason="Reason: Too many emails")
    log_in(page, f"/subscribers/{ada.pk}/")
    history = page.locator("#consent-history")
    expect(history.get_by_role("row")).to_have_count(3)
    expect(history).to_contain_text("Reason: Too many emails")
    expect(history).to_contain_text("by ana")
    expect(page.locator("#messages")).to_contain_text("No campaign has been sent to them.")
    page.screenshot(path=str(SCREENSHOTS / "subscriber-history.png"), full_page=True)
    assert Subscriber.objects.count() == 1
