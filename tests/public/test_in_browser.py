"""Every page a subscriber reaches from an email, in a real headless Chromium.

Each test starts in a fresh browser context, not logged in: a recipient
clicking a link in their mail client. Links are built the way a real email
builds them (``campaigns.personalize``, ``subscribers.confirmation``), with
BASE_URL pointing at the live server.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from pytest_django.live_server_helper import LiveServer

from bounces.models import Suppression
from bounces.services import suppress
from campaigns.models import Campaign
from campaigns.personalize import subscriber_links
from postino import jobs
from subscribers import confirmation, services
from subscribers.models import MailingList, Subscriber, Subscription
from tests.conftest import PASSWORD
from tests.public.helpers import active_lists

# tests/public/conftest.py calls Django's test client "browser"; here it is Chromium.
from tests.support.browser import (
    BROWSER_MARKS,
    SCREENSHOTS,
    browser,  # noqa: F401
    expect,
    log_in,
)
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def links_to_live_server(settings: Any, live_server: LiveServer) -> None:
    settings.BASE_URL = live_server.url


@pytest.fixture
def links(alice: Subscriber, campaign: Campaign, links_to_live_server: None) -> dict[str, str]:
    """The links of the campaign email Alice received."""
    return subscriber_links(subscriber_id=alice.pk, campaign_id=campaign.pk)


def watch_form_posts(page: Any) -> list[dict[str, str]]:
    """The headers of every form POST the page sends."""
    posts: list[dict[str, str]] = []
    page.on(
        "request",
        lambda request: posts.append(request.headers) if request.method == "POST" else None,
    )
    return posts


def test_a_recipient_unsubscribes_from_the_link_in_the_email(
    page: Any, live_server: LiveServer, alice: Subscriber, links: dict[str, str]
) -> None:
    posts = watch_form_posts(page)
    page.goto(links["unsubscribe_url"])
    expect(page.get_by_role("heading", name="Unsubscribe alice@example.com?")).to_be_visible()
    expect(page.locator("ul.lists li")).to_have_text(["Newsletter", "Offers"])
    page.screenshot(path=str(SCREENSHOTS / "public-unsubscribe-confirm.png"), full_page=True)

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You have been unsubscribed")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "public-unsubscribe-done.png"), full_page=True)
    # The browser named our own origin: the page no longer says "no-referrer".
    assert [post.get("origin") for post in posts] == [live_server.url]
    assert active_lists(alice) == {"Events"}


def test_the_one_click_url_opened_in_a_browser_shows_the_same_working_button(
    page: Any, alice: Subscriber, links: dict[str, str]
) -> None:
    page.goto(links["one_click_url"])
    expect(page.get_by_role("heading", name="Unsubscribe alice@example.com?")).to_be_visible()
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}, "GET changes nothing"

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You have been unsubscribed")).to_be_visible()
    assert active_lists(alice) == {"Events"}


def test_a_recipient_leaves_one_list_and_renames_themselves_on_the_preferences_page(
    page: Any, alice: Subscriber, links: dict[str, str]
) -> None:
    page.goto(links["preferences_url"])
    expect(page.get_by_role("heading", name="Preferences for alice@example.com")).to_be_visible()
    page.get_by_label("Your name").fill("Alice Liddell")
    page.get_by_label("Offers").uncheck()
    page.screenshot(path=str(SCREENSHOTS / "public-preferences.png"), full_page=True)

    page.get_by_role("button", name="Save preferences").click()

    expect(page.get_by_role("status")).to_have_text("Your preferences have been saved.")
    expect(page.get_by_label("Offers")).to_have_count(0)
    expect(page.get_by_label("Newsletter")).to_be_checked()
    page.screenshot(path=str(SCREENSHOTS / "public-preferences-saved.png"), full_page=True)
    alice.refresh_from_db()
    assert alice.name == "Alice Liddell"
    assert active_lists(alice) == {"Newsletter", "Events"}


def test_a_recipient_unsubscribes_from_everything_on_the_preferences_page(
    page: Any, alice: Subscriber, links: dict[str, str]
) -> None:
    page.goto(links["preferences_url"])

    page.get_by_role("button", name="Unsubscribe from everything").click()

    expect(page.get_by_role("status")).to_have_text("You have been unsubscribed from everything.")
    expect(page.locator("main")).to_contain_text("You are not subscribed to any list.")
    assert active_lists(alice) == set()


def test_the_web_view_shows_the_campaign_as_this_recipient_got_it(
    page: Any, links: dict[str, str]
) -> None:
    response = page.goto(links["webview_url"])

    assert response.status == 200
    expect(page).to_have_title("Hello Alice")
    expect(page.locator("body")).to_contain_text("Hello Alice from Lyon")
    page.screenshot(path=str(SCREENSHOTS / "public-webview.png"), full_page=True)


def test_a_tampered_web_view_link_shows_the_friendly_invalid_link_page(
    page: Any, links: dict[str, str]
) -> None:
    url = links["webview_url"]
    tampered = url[:-3] + ("A" if url[-3] != "A" else "B") + url[-2:]

    response = page.goto(tampered)

    assert response.status == 404
    expect(page).to_have_title("Link not valid")
    expect(page.get_by_role("heading", name="This link doesn't work")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "public-invalid-link.png"), full_page=True)


def test_a_page_whose_cookie_is_gone_still_lets_the_recipient_unsubscribe(
    page: Any, alice: Subscriber, links: dict[str, str]
) -> None:
    page.goto(links["unsubscribe_url"])
    page.context.clear_cookies()  # cookies blocked, or cleared while the page sat open

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="Please press the button once more")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "public-csrf-failed.png"), full_page=True)
    assert active_lists(alice) == {"Newsletter", "Offers", "Events"}

    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You have been unsubscribed")).to_be_visible()
    assert active_lists(alice) == {"Events"}


# --- Double opt-in ---------------------------------------------------------------------


def test_a_new_subscriber_confirms_from_the_email_and_staff_then_see_confirmed(
    page: Any,
    browser: Any,  # noqa: F811
    live_server: LiveServer,
    staff: User,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    links_to_live_server: None,
    queued_jobs: QueuedJobs,
) -> None:
    insiders = services.create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)
    make_smtp_server(smtpd)
    bob = services.create_subscriber(email="bob@example.com", name="Bob", lists=[insiders])
    for (batch,) in queued_jobs.of(jobs.SEND_CONFIRMATIONS):  # what the worker runs
        confirmation.send_confirmations(batch)
    [received] = smtpd.handler.messages
    text = received.parsed().get_body(("plain",))
    assert text is not None
    link = re.search(r"http://\S+/confirm/\S+/", str(text.get_content()))
    assert link, "the email carries the confirm link"

    page.goto(link.group(0))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    expect(page.locator("main")).to_contain_text("bob@example.com")
    expect(page.locator("main")).to_contain_text("Insiders")
    page.screenshot(path=str(SCREENSHOTS / "public-confirm.png"), full_page=True)
    subscription = bob.subscriptions.get()
    assert subscription.status == Subscription.Status.UNCONFIRMED, "opening the link is not consent"

    page.get_by_role("button", name="Yes, subscribe me").click()

    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    expect(page.get_by_role("link", name="Manage your preferences")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "public-confirm-done.png"), full_page=True)
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED

    staff_context = browser.new_context(base_url=live_server.url)
    staff_page = staff_context.new_page()
    try:
        log_in(staff_page, f"/subscribers/{bob.pk}/")
        row = staff_page.get_by_test_id("subscriptions").get_by_role(
            "row", name=re.compile("Insiders")
        )
        expect(row).to_contain_text("Confirmed")
        expect(row).to_contain_text("Confirmation link")
        expect(staff_page.get_by_test_id("subscriber-state")).to_have_text("Active")
    finally:
        staff_context.close()


def test_staff_confirm_and_re_ask_from_the_subscriber_page(
    page: Any, staff: User, queued_jobs: QueuedJobs
) -> None:
    insiders = services.create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)
    early = services.create_list(name="Early access", optin=MailingList.OptIn.DOUBLE)
    bob = services.create_subscriber(email="bob@example.com", lists=[insiders, early])

    log_in(page, f"/subscribers/{bob.pk}/")
    expect(page.get_by_test_id("subscriber-state")).to_have_text("Unconfirmed")
    table = page.get_by_test_id("subscriptions")
    expect(table.get_by_role("row", name=re.compile("Insiders"))).to_contain_text(
        "Confirmation not sent yet"
    )
    page.screenshot(path=str(SCREENSHOTS / "staff-subscriber-unconfirmed.png"), full_page=True)

    table.get_by_role("row", name=re.compile("Early access")).get_by_role(
        "button", name="Resend confirmation"
    ).click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Confirmation email for “Early access” queued to bob@example.com."
    )

    table.get_by_role("row", name=re.compile("Insiders")).get_by_role(
        "button", name="Confirm", exact=True
    ).click()
    expect(page.locator(".flash-success")).to_have_text("Subscription to “Insiders” confirmed.")
    row = table.get_by_role("row", name=re.compile("Insiders"))
    expect(row).to_contain_text("Confirmed by staff (ana)")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(page.get_by_test_id("subscriber-state")).to_have_text("Active")
    assert bob.subscriptions.get(mailing_list=insiders).status == Subscription.Status.CONFIRMED


def test_staff_see_a_suppressed_subscriber_for_what_it_is(
    page: Any, staff: User, alice: Subscriber, campaign: Campaign
) -> None:
    suppress(email=alice.email, reason=Suppression.Reason.HARD_BOUNCE, campaign=campaign)
    services.create_subscriber(email="left@example.com", lists=[])
    left = services.create_subscriber(
        email="gone@example.com", lists=list(MailingList.objects.all())
    )
    services.unsubscribe(subscriber_id=left.pk)

    log_in(page, "/subscribers/")
    rows = page.get_by_role("row")
    expect(rows.filter(has_text="alice@example.com")).to_contain_text("Suppressed: hard bounce")
    expect(rows.filter(has_text="gone@example.com")).to_contain_text("Unsubscribed from everything")
    page.screenshot(path=str(SCREENSHOTS / "staff-subscriber-index.png"), full_page=True)

    page.get_by_role("link", name="alice@example.com").click()
    expect(page.get_by_test_id("suppression")).to_contain_text("Suppressed: hard bounce")
    expect(page.get_by_test_id("suppression")).to_contain_text(campaign.name)
    page.screenshot(path=str(SCREENSHOTS / "staff-subscriber-suppressed.png"), full_page=True)
    page.get_by_role("link", name="Lift it on the Suppressions page").click()
    expect(page.locator("main")).to_contain_text("alice@example.com")
