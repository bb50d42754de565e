"""The polish list in a real Chromium: the sending servers page at laptop widths."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from delivery.services import create_esp_server, create_smtp_server
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in

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
