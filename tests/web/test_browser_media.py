"""The template library in a real headless Chromium: copy a default layout, upload an
image in the media library, pick it in the media picker and in the campaign editor."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from PIL import Image

from campaigns.models import Template
from media.models import MediaFile
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.media import media_on_disk

pytestmark = BROWSER_MARKS

DEFAULTS = importlib.import_module("campaigns.migrations.0008_default_layouts").DEFAULTS


@pytest.fixture
def staff(transactional_db: None) -> User:
    # A transactional test flushes the migration's rows: put the defaults back.
    for name, html in DEFAULTS.items():
        Template.objects.get_or_create(name=name, defaults={"html": html})
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def test_a_marketer_copies_a_layout_uploads_an_image_and_picks_it(
    page: Any, staff: User, media_on_disk: Path, tmp_path: Path
) -> None:
    newsletter = Template.objects.get(name="Newsletter (one column)")
    log_in(page, f"/layouts/{newsletter.pk}/")
    page.get_by_role("button", name="Duplicate").click()
    expect(page.locator("h1")).to_have_text("Copy of Newsletter (one column)")
    expect(page.get_by_text("created from “Newsletter (one column)”")).to_be_visible()

    logo = tmp_path / "brand-logo.png"
    Image.new("RGB", (120, 40), "#2f5bea").save(logo)
    page.get_by_role("link", name="Media").click()
    page.set_input_files("#media-file", str(logo))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".media-tile")).to_have_count(1)
    media = MediaFile.objects.get()
    expect(page.locator(".media-tile img")).to_have_attribute("src", f"/m/{media.name}")
    assert page.locator(".media-tile img").evaluate("img => img.naturalWidth") == 120
    page.screenshot(path=str(SCREENSHOTS / "postino-media-library.png"), full_page=True)

    page.evaluate("() => window.PostinoMediaPicker.open((choice) => { window.picked = choice; })")
    dialog = page.get_by_role("dialog", name="Choose an image")
    expect(dialog).to_be_visible()
    dialog.get_by_role("option", name="brand-logo.png").click()
    expect(dialog).to_have_count(0)
    picked = page.evaluate("() => window.picked")
    assert picked == {"url": picked["url"], "width": 120, "height": 40, "alt": "brand logo"}
    assert picked["url"].endswith(f"/m/{media.name}")

    # The picker sits in the campaign editor: the image goes in where the author writes.
    page.goto("/campaigns/new/")
    page.get_by_role("button", name="Insert image…").click()
    dialog = page.get_by_role("dialog", name="Choose an image")
    dialog.get_by_role("option", name="brand-logo.png").click()
    expect(dialog).to_have_count(0)
    html = page.locator("textarea[name=html]").input_value()
    assert f'src="{picked["url"]}" alt="brand logo" width="120"' in html


__all__ = ["media_on_disk"]  # the fixture, imported for pytest
