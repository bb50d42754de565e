"""The campaign editor in a real browser: three modes, the live preview, errors, save."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign
from delivery.services import create_smtp_server
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in, replace_code

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    create_smtp_server(name="Relay", host="127.0.0.1", port=1025, security="none")
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def test_a_marketer_writes_in_each_mode_with_the_preview_following(page: Any, staff: User) -> None:
    log_in(page, "/campaigns/new/")
    page.fill("#id_name", "Spring news")
    page.fill("#id_subject", "Hello {{ subscriber.name }}")
    page.fill("#id_preheader", "Inside: the spring sale")
    page.fill("#id_tags", "promo, spring")
    page.select_option("#id_smtp_server", index=1)
    preview = page.frame_locator("[data-role=preview-html]")
    inbox = page.locator("[data-role=preview-inbox]")
    expect(inbox).to_contain_text("Hello Sample Subscriber")
    expect(inbox).to_contain_text("Inside: the spring sale")

    # Rich text (the default): type into the editor, the preview follows.
    surface = page.locator("[data-role=rich-surface] .tiptap")
    surface.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Rich words here.")
    expect(preview.locator("body")).to_contain_text("Rich words here.")

    # HTML: the same HTML in a code editor; a template error shows with its line.
    page.select_option("#id_editor", "html")
    expect(page.locator("[data-editor-for=html]")).to_be_visible()
    replace_code(page, "html", "<p>Fine</p>\n<p>{% if %}</p>\n")
    errors = page.locator("[data-role=preview-errors]")
    expect(errors).to_contain_text("HTML, line 2")
    expect(page.locator("[data-editor-for=html] .cm-lint-marker-error")).to_have_count(1)
    replace_code(page, "html", "<h2>Hi {{ subscriber.name }}</h2>\n<p>HTML body</p>\n")
    expect(errors).to_be_hidden()
    expect(preview.locator("h2")).to_have_text("Hi Sample Subscriber")

    # Markdown: converting from HTML warns first; cancelling keeps the HTML.
    page.select_option("#id_editor", "markdown")
    dialog = page.locator("[data-role=switch-dialog]")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#id_editor")).to_have_value("html")
    page.select_option("#id_editor", "markdown")
    dialog.get_by_role("button", name="Convert").click()
    expect(page.locator("[data-editor-for=source]")).to_contain_text("## Hi {{ subscriber.name }}")
    replace_code(page, "source", "## Hi {{ subscriber.name }}\n\nNow in **Markdown**.\n")
    expect(preview.locator("strong")).to_have_text("Markdown")
    page.locator("[data-width=mobile]").click()
    page.locator("[data-part=text]").click()
    expect(page.locator("[data-role=preview-text]")).to_contain_text("Now in Markdown")
    page.screenshot(path=str(SCREENSHOTS / "campaign-editor.png"), full_page=True)

    page.get_by_role("button", name="Save draft").click()
    expect(page.locator(".flash-success")).to_contain_text("saved as a draft")
    campaign = Campaign.objects.get(name="Spring news")
    assert campaign.editor == "markdown"
    assert campaign.source.startswith("## Hi {{ subscriber.name }}")
    assert "<strong>Markdown</strong>" in campaign.html
    assert campaign.preheader == "Inside: the spring sale"
    assert sorted(campaign.tags.values_list("name", flat=True)) == ["promo", "spring"]
