"""The polish list in a real Chromium: sending servers at laptop widths, honest
connection checks, every campaign problem at once, template warnings, the Outbox."""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import Any

import pytest
from django.contrib.auth.models import User

from delivery.models import CaughtMessage
from delivery.services import create_esp_server, create_smtp_server
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in, write_html_body
from tests.support.certs import CertificateFiles
from tests.support.smtpd import smtp_server

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def _servers() -> None:
    # Long values, as real relays have: the widest row decides the table's width.
    create_smtp_server(
        name="Transactional relay (eu-west, primary)",
        host="email-smtp.eu-west-1.amazonaws.example.com",
        port=587,
        username="AKIAIOSFODNN7EXAMPLE-newsletter-sender",
        password="secret",
        messages_per_second=14,
        messages_per_hour=50000,
        messages_per_day=1000000,
        warmup_start_per_day=5000,
    )
    create_smtp_server(
        name="Local catcher", host="127.0.0.1", port=1025, security="none", max_connections=8
    )
    create_esp_server(name="Postmark", esp="postmark", credentials={"server_token": "t"})


@pytest.mark.parametrize("width", [1280, 1024])
def test_every_test_connection_button_is_on_screen_at_laptop_widths(
    page: Any, staff: User, width: int
) -> None:
    _servers()
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sending servers").click()
    expect(page.get_by_role("heading", name="Sending servers", level=1)).to_be_visible()
    expect(page).to_have_title("Sending servers · Postino")
    page.screenshot(path=str(SCREENSHOTS / f"sending-servers-{width}.png"), full_page=True)

    # Nothing scrolls sideways: the page is as wide as the window.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    buttons = page.get_by_role("button", name="Test connection")
    expect(buttons).to_have_count(2)
    for index in range(2):
        box = buttons.nth(index).bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width
    # And it is a real, clickable control.
    buttons.first.click()
    expect(page.locator("[data-role=connection-check]")).to_be_visible()


def test_a_plain_anonymous_server_is_reported_as_such_with_a_warning(
    page: Any, staff: User, certificates: CertificateFiles
) -> None:
    with smtp_server(certificates, plain=True, require_auth=False) as running:
        create_smtp_server(
            name="Office relay", host=running.host, port=running.port, security="none"
        )
        log_in(page, "/smtp/")
        page.get_by_role("button", name="Test connection").click()
        check = page.locator("[data-role=connection-check]")
        expect(check.get_by_role("heading")).to_have_text("Connection works")
        expect(page.locator("[data-role=check-summary]")).to_have_text(
            "Connected; no TLS (plain connection); no login configured."
        )
        expect(page.locator("[data-role=check-warning]")).to_contain_text("unencrypted")
        expect(check).not_to_contain_text("TLS and login all work")
        page.screenshot(path=str(SCREENSHOTS / "connection-check-plain.png"), full_page=True)


def test_the_campaign_form_shows_every_problem_at_once(page: Any, staff: User) -> None:
    create_list(name="Newsletter")
    log_in(page, "/campaigns/new/")
    page.fill("#id_name", "March news")
    page.fill("#id_subject", "")
    page.fill("#id_from_email", "nobody")
    page.fill("#id_reply_to", "also wrong")
    write_html_body(page, "<p>Hi</p>\n{% if %}\n")
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator("#field-subject .field-errors")).to_have_text(
        re.compile("A campaign needs a subject")
    )
    expect(page.locator("#field-from_email .field-errors")).to_have_text(
        re.compile("Enter an address such as")
    )
    expect(page.locator("#field-reply_to .field-errors")).to_have_text(
        re.compile("Enter an address such as")
    )
    expect(page.locator("#field-html .field-errors")).to_have_text(re.compile(r"Line 2: "))
    expect(page.locator("#id_name")).to_have_value("March news")
    page.screenshot(path=str(SCREENSHOTS / "campaign-form-all-errors.png"), full_page=True)


CITY_UPPER = (
    "<h1>Hello {{ subscriber.name }}</h1>\n"
    "<p>News from {{ subscriber.attributes.city.upper() }}</p>\n"
)


def test_a_template_some_members_cannot_render_saves_with_a_warning(page: Any, staff: User) -> None:
    news = create_list(name="Newsletter")
    create_subscriber(
        email="bea@example.com", name="Bea", attributes={"city": "Lisbon"}, lists=[news]
    )
    create_subscriber(email="cy@example.com", name="Cy", lists=[news])
    log_in(page, "/campaigns/new/")
    page.fill("#id_name", "City news")
    page.fill("#id_subject", "News for {{ subscriber.name }}")
    page.fill("#id_from_email", "News <news@example.com>")
    page.get_by_label("Newsletter").check()
    write_html_body(page, CITY_UPPER)
    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_have_text("Campaign “City news” saved as a draft.")
    expect(page.locator(".flash-warning")).to_contain_text(
        "1 of 2 sampled members would not receive this campaign"
    )
    page.screenshot(path=str(SCREENSHOTS / "campaign-saved-with-warning.png"), full_page=True)

    page.get_by_role("link", name="Preview").click()
    expect(page.locator("[data-role=template-warning]")).to_contain_text("1 of 2 sampled members")
    expect(page.locator("[data-role=sample-hint]")).to_be_visible()
    page.select_option("#id_subscriber", label="bea@example.com")
    page.get_by_role("button", name="Show preview").click()
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.locator("p")).to_have_text("News from LISBON")
    page.screenshot(path=str(SCREENSHOTS / "campaign-preview-warning.png"), full_page=True)


@pytest.mark.usefixtures("mailcatcher_on")
def test_the_outbox_shows_the_from_header_and_keeps_the_envelope(page: Any, staff: User) -> None:
    message = EmailMessage()
    message["From"] = "Zoë's News <news@example.com>"
    message["To"] = "alice@example.com"
    message["Subject"] = "Spring news"
    message.set_content("Hello Alice")
    envelope = "bounces+c1.s2.x@bounces.example.com"
    CaughtMessage.objects.create(
        mail_from=envelope, rcpt_to=["alice@example.com"], subject="Spring news",
        raw=message.as_bytes(),
    )  # fmt: skip
    log_in(page, "/outbox/")
    row = page.locator("tbody tr").first
    expect(row).to_contain_text("Zoë's News <news@example.com>")
    expect(row).not_to_contain_text(envelope)
    page.screenshot(path=str(SCREENSHOTS / "outbox-from.png"), full_page=True)
    row.get_by_role("link", name="Spring news").click()
    expect(page.locator("[data-role=from-header]")).to_have_text("Zoë's News <news@example.com>")
    expect(page.locator("[data-role=envelope-sender]")).to_have_text(envelope)
    page.screenshot(path=str(SCREENSHOTS / "outbox-detail-envelope.png"), full_page=True)
