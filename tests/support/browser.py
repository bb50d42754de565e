"""A real headless Chromium (Debian's) driven by Playwright, against a live server.

The fixtures are registered for the whole suite in ``tests/conftest.py``:

* ``live_server``: pytest-django's live server, started with plain-HTTP settings
  (module scope);
* ``browser``: one Chromium per module;
* ``page``: a fresh browser context (no cookies: a recipient clicking a link
  from a mail client) and page for each test.

Browser test modules start with ``pytestmark = BROWSER_MARKS`` so they are
skipped where Chromium is not installed and can be selected with ``-m browser``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from pytest_django.live_server_helper import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# The main pages as the browser tests see them, kept after a run (CI too):
# var/ is the checkout's own scratch directory, never committed.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
SCREENSHOTS.mkdir(parents=True, exist_ok=True)

BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Chromium is not installed"),
]

# Without these, Chromium reaches out to Google's hosts at every start and the
# machine's closed network refuses it, many connections at a time.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def sync_api() -> Any:
    return pytest.importorskip("playwright.sync_api")


def expect(*args: Any, **kwargs: Any) -> Any:
    """Playwright's ``expect``, imported when first used."""
    return sync_api().expect(*args, **kwargs)


@pytest.fixture(scope="module")
def live_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[LiveServer]:
    """pytest-django's live server, started with plain-HTTP settings.

    SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server thread
    builds its handler, so the override must be in place before it starts;
    the session-wide ``live_server`` would be built with the suite's https
    BASE_URL and redirect the browser to an https port that does not exist.
    """
    plain_http = override_settings(
        SECURE_SSL_REDIRECT=False,
        SECURE_HSTS_SECONDS=0,
        SESSION_COOKIE_SECURE=False,
        CSRF_COOKIE_SECURE=False,
    )
    plain_http.enable()
    server = LiveServer("localhost:0")
    try:
        yield server
    finally:
        server.stop()
        plain_http.disable()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api().sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def log_in(page: Any, path: str = "/", *, username: str = "ana", password: str = "") -> None:
    """Open ``path``, get sent to the login form, log in, land back on ``path``."""
    from tests.conftest import PASSWORD

    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login/\?next="))
    page.fill("#id_username", username)
    page.fill("#id_password", password or PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def write_html_body(page: Any, html: str) -> None:
    """Write a campaign's body in the editor's HTML mode, as a person pasting it."""
    page.select_option("#id_editor", "html")
    replace_code(page, "html", html)


def replace_code(page: Any, field: str, text: str) -> None:
    """Replace what a code editor (CodeMirror) of the campaign form holds."""
    page.locator(f"[data-editor-for={field}] .cm-content").click()
    page.keyboard.press("Control+A")
    # Inserted as one input: typed key by key, CodeMirror would close brackets.
    page.keyboard.insert_text(text)
