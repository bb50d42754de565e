"""The Transactional section in a real browser: a template written against its
sample JSON with the preview following, a relay password shown once, a
credential's limits changed, and the message log filtered by status."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from transactional.models import RelayCredential, TxMessage, TxTemplate

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def test_a_template_is_written_against_its_sample_data_with_the_preview_following(
    page: Any, staff: User
) -> None:
    log_in(page, "/transactional/templates/new/")
    page.fill("#id_name", "Order shipped")
    page.fill("#id_subject", "Order {{ order_id }} is on its way")
    preview = page.frame_locator("[data-role=preview-html]")
    expect(page.locator("[data-role=preview-subject]")).to_have_text("Order A-1001 is on its way")
    expect(preview.locator("body")).to_contain_text("Hello Ada")

    # Other data, typed into the sample JSON: the preview renders with it.
    page.fill("#id_sample_data", '{"name": "Grace", "order_id": "B-7"}')
    expect(preview.locator("body")).to_contain_text("Hello Grace")
    expect(page.locator("[data-role=preview-subject]")).to_have_text("Order B-7 is on its way")

    # A template mistake is named with its line, live and again when saving.
    page.fill("#id_html", "<p>Hello {{ name }}</p>\n<p>{% if %}</p>\n")
    errors = page.locator("[data-role=preview-errors]")
    expect(errors).to_contain_text("HTML, line 2")
    expect(page.locator("[data-role=preview-frame]")).to_have_class(re.compile("is-stale"))
    page.get_by_role("button", name="Create template").click()
    expect(page.locator("#field-html .field-errors")).to_contain_text("Line 2:")
    assert not TxTemplate.objects.exists()
    page.screenshot(path=str(SCREENSHOTS / "tx-template-error.png"), full_page=True)

    page.fill("#id_html", "<h2>Hello {{ name }}</h2>\n<p>Order {{ order_id }} left today.</p>\n")
    expect(errors).to_be_hidden()
    expect(preview.locator("h2")).to_have_text("Hello Grace")
    page.locator("[data-width=mobile]").click()
    page.locator("[data-part=text]").click()
    expect(page.locator("[data-role=preview-text]")).to_contain_text("Order B-7 left today.")
    page.screenshot(path=str(SCREENSHOTS / "tx-template-form.png"), full_page=True)
    page.get_by_role("button", name="Create template").click()
    expect(page.locator(".flash-success")).to_contain_text("Template “Order shipped” created")
    template = TxTemplate.objects.get()
    assert template.sample_data == {"name": "Grace", "order_id": "B-7"}
    expect(page.frame_locator("[data-role=preview-html]").locator("h2")).to_have_text("Hello Grace")
    page.screenshot(path=str(SCREENSHOTS / "tx-template-detail.png"), full_page=True)


def test_a_relay_password_is_shown_once(page: Any, staff: User) -> None:
    log_in(page, "/transactional/credentials/new/")
    page.fill("#id_name", "Shop backend")
    page.fill("#id_allowed_from_domains", "shop.example.com\n")
    page.fill("#id_messages_per_minute", "120")
    page.get_by_role("button", name="Create credential").click()
    expect(page.get_by_text("it will not be shown again")).to_be_visible()
    password = page.locator("[data-role=password]").inner_text()
    credential = RelayCredential.objects.get()
    expect(page.locator("[data-role=username]")).to_have_text(credential.username)
    page.screenshot(path=str(SCREENSHOTS / "tx-credential-created.png"), full_page=True)

    page.get_by_role("link", name="Done").click()
    expect(page.locator("[data-role=credential-list]")).to_contain_text("Shop backend")
    assert password not in page.content()
    page.screenshot(path=str(SCREENSHOTS / "tx-credentials.png"), full_page=True)


def test_a_credentials_limits_are_changed_and_a_bad_domain_is_named(page: Any, staff: User) -> None:
    from transactional.credentials import create_credential

    credential = create_credential(name="Shop backend", messages_per_minute=120).credential
    log_in(page, f"/transactional/credentials/{credential.pk}/")
    expect(page.locator("#id_messages_per_minute")).to_have_value("120")
    page.fill("#id_allowed_from_domains", "shop.example.com\nbad domain!\n")
    page.get_by_role("button", name="Save limits").click()
    expect(page.locator("form.stack")).to_contain_text("bad domain!")
    credential.refresh_from_db()
    assert credential.allowed_from_domains == []

    page.fill("#id_allowed_from_domains", "shop.example.com\nShop.Example.org\n")
    page.fill("#id_messages_per_minute", "30")
    page.fill("#id_messages_per_day", "1000")
    page.fill("#id_max_message_mb", "2")
    page.get_by_role("button", name="Save limits").click()
    expect(page.get_by_text("Limits of “Shop backend” saved.")).to_be_visible()
    credential.refresh_from_db()
    assert credential.allowed_from_domains == ["shop.example.com", "shop.example.org"]
    assert (credential.messages_per_minute, credential.messages_per_day) == (30, 1000)
    assert credential.max_message_bytes == 2 * 1024 * 1024
    page.screenshot(path=str(SCREENSHOTS / "tx-credential-limits.png"), full_page=True)


def test_the_message_log_filters_by_status(page: Any, staff: User) -> None:
    receipt = TxTemplate.objects.create(name="Receipt", subject="Receipt", html="<p>x</p>")
    for email, status, reply in (
        ("ada@example.com", "sent", "250 2.0.0 Ok: queued as 4F1A"),
        ("bob@example.com", "bounced", "250 2.0.0 Ok"),
        ("cy@example.com", "deferred", "451 4.7.1 Greylisted, try again later"),
        ("dee@example.com", "failed", "550 5.1.1 User unknown"),
    ):
        TxMessage.objects.create(
            source="api",
            email=email,
            subject="Your receipt",
            template=receipt,
            status=status,
            smtp_code=int(reply[:3]),
            smtp_reply=reply[4:],
        )
    log_in(page, "/transactional/")
    page.screenshot(path=str(SCREENSHOTS / "tx-landing.png"), full_page=True)
    page.get_by_role("link", name="Message log").first.click()
    rows = page.locator("[data-role=message-log] tbody tr")
    expect(rows).to_have_count(4)
    page.screenshot(path=str(SCREENSHOTS / "tx-message-log.png"), full_page=True)

    page.select_option("#id_status", "failed")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("dee@example.com")
    expect(rows.first).to_contain_text("User unknown")
    rows.first.get_by_role("link").first.click()
    expect(page.locator("h1")).to_have_text("dee@example.com")
    expect(page.locator("[data-role=smtp-reply]")).to_contain_text("5.1.1 User unknown")
    page.screenshot(path=str(SCREENSHOTS / "tx-message.png"), full_page=True)
