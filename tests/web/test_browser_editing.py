"""Editing and deleting in the marketer UI, clicked through in a real headless Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User

from bounces.models import Suppression
from campaigns.models import Campaign, Template
from campaigns.services import create_campaign
from delivery.models import Delivery
from delivery.services import create_smtp_server
from subscribers.models import MailingList, Subscriber
from subscribers.services import create_list, create_subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


def _draft(name: str = "Spring news", lists: list[MailingList] | None = None) -> Campaign:
    server = create_smtp_server(name="Relay", host="127.0.0.1", port=1025, security="none")
    return create_campaign(
        name=name,
        subject="Hello {{ subscriber.name }}",
        from_email="News <news@example.com>",
        html="<p>Hi {{ subscriber.name }}</p>",
        lists=lists or [],
        smtp_server=server,
    )


def test_a_marketer_edits_a_subscriber(page: Any, staff: User) -> None:
    news = create_list(name="Newsletter")
    offers = create_list(name="Offers")
    bea = create_subscriber(email="bea@example.com", name="Bea", lists=[news])
    create_subscriber(email="carl@example.com", name="Carl")

    log_in(page, f"/subscribers/{bea.pk}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    expect(page.get_by_role("heading", name="Edit subscriber")).to_be_visible()
    expect(page.locator("#id_email")).to_have_value("bea@example.com")
    expect(page.get_by_label("Newsletter")).to_be_checked()

    # Another subscriber's address: the message sits beside the email, with a link.
    page.fill("#id_email", "Carl@Example.com")
    page.get_by_role("button", name="Save subscriber").click()
    expect(page.locator("#field-email .field-errors")).to_have_text(
        re.compile("Another subscriber already has the address carl@example.com.")
    )
    expect(page.get_by_role("link", name="Open the existing subscriber →")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "postino-subscriber-edit-error.png"), full_page=True)

    page.fill("#id_email", "Bea.Costa@Example.com")
    page.fill("#id_name", "Bea Costa")
    page.fill("#id_attributes", '{"city": "Porto"}')
    page.get_by_label("Newsletter").uncheck()
    page.get_by_label("Offers").check()
    page.get_by_role("button", name="Save subscriber").click()

    expect(page.locator(".flash-success")).to_have_text("Subscriber bea.costa@example.com saved.")
    expect(page.get_by_role("heading", name="bea.costa@example.com")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Bea Costa")
    expect(page.locator("main")).to_contain_text("Porto")
    page.screenshot(path=str(SCREENSHOTS / "postino-subscriber-edited.png"), full_page=True)
    bea.refresh_from_db()
    assert (bea.email, bea.name, bea.attributes) == (
        "bea.costa@example.com", "Bea Costa", {"city": "Porto"},
    )  # fmt: skip
    states = dict(bea.subscriptions.values_list("mailing_list__name", "status"))
    assert states == {"Newsletter": "unsubscribed", "Offers": "confirmed"}
    assert offers.subscriptions.count() == 1

    # Search finds her by name now, not only by address.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Subscribers").click()
    page.get_by_placeholder("Search by email or name…").fill("costa")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("bea.costa@example.com")


def test_a_marketer_deletes_a_list_after_reading_what_happens(page: Any, staff: User) -> None:
    demo = create_list(name="Demo", description="Sample subscribers. Safe to delete.")
    keep = create_list(name="Keep")
    for i in range(3):
        create_subscriber(email=f"p{i}@example.com", lists=[demo, keep])
    _draft("Draft to demo", lists=[demo])

    log_in(page, f"/lists/{demo.pk}/")
    page.get_by_role("link", name="Delete…").click()
    expect(page.get_by_role("heading", name="Delete the list “Demo”?")).to_be_visible()
    impact = page.locator('[data-role="impact"]')
    expect(impact).to_contain_text("Its 3 subscriptions are deleted.")
    expect(impact).to_contain_text("The subscribers themselves stay")
    expect(impact).to_contain_text("Draft campaigns lose it from their lists: “Draft to demo”.")
    page.screenshot(path=str(SCREENSHOTS / "postino-list-delete-confirm.png"), full_page=True)

    # Cancel keeps it.
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/lists/{demo.pk}/$"))
    expect(page.get_by_role("heading", name="Demo")).to_be_visible()
    assert MailingList.objects.filter(pk=demo.pk).exists()

    # Confirm deletes it; the subscribers and the other list stay.
    page.get_by_role("link", name="Delete…").click()
    page.get_by_role("button", name="Delete list").click()
    expect(page).to_have_url(re.compile(r"/lists/$"))
    expect(page.locator(".flash-success")).to_have_text("List “Demo” deleted.")
    expect(page.get_by_role("link", name="Demo")).to_have_count(0)
    expect(page.get_by_role("link", name="Keep")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "postino-list-deleted.png"), full_page=True)
    assert not MailingList.objects.filter(pk=demo.pk).exists()
    assert Subscriber.objects.count() == 3
    assert keep.subscriptions.count() == 3


def test_a_marketer_edits_a_list(page: Any, staff: User) -> None:
    news = create_list(name="Newsletter")
    create_list(name="Offers")
    log_in(page, f"/lists/{news.pk}/")
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("#id_name", "OFFERS")
    page.get_by_role("button", name="Save list").click()
    expect(page.locator("#field-name .field-errors")).to_have_text(
        re.compile("Another list already has this name.")
    )
    page.fill("#id_name", "Monthly news")
    page.fill("#id_description", "Once a month")
    page.get_by_role("button", name="Save list").click()
    expect(page.locator(".flash-success")).to_have_text("List “Monthly news” saved.")
    expect(page.locator("main")).to_contain_text("Once a month")
    page.screenshot(path=str(SCREENSHOTS / "postino-list-edited.png"), full_page=True)


def test_a_marketer_duplicates_then_deletes_a_draft(page: Any, staff: User) -> None:
    news = create_list(name="Newsletter")
    original = _draft(lists=[news])

    log_in(page, f"/campaigns/{original.pk}/")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-actions.png"), full_page=True)
    page.get_by_role("button", name="Duplicate").click()
    expect(page.locator(".flash-success")).to_have_text(
        "Duplicated as “Copy of Spring news”, a new draft."
    )
    expect(page.get_by_role("heading", name="Copy of Spring news")).to_be_visible()
    expect(page.locator('[data-role="status"]')).to_have_text("Draft")
    expect(page.locator("main")).to_contain_text("Newsletter")
    copy = Campaign.objects.exclude(pk=original.pk).get()
    assert list(copy.lists.all()) == [news]
    assert copy.html == original.html

    page.get_by_role("link", name="Delete…").click()
    expect(
        page.get_by_role("heading", name="Delete the campaign “Copy of Spring news”?")
    ).to_be_visible()
    expect(page.locator("main")).to_contain_text("It is a draft: nothing was sent")
    page.screenshot(path=str(SCREENSHOTS / "postino-campaign-delete-confirm.png"), full_page=True)
    page.get_by_role("button", name="Delete campaign").click()
    expect(page).to_have_url(re.compile(r"/campaigns/$"))
    expect(page.locator(".flash-success")).to_have_text("Campaign “Copy of Spring news” deleted.")
    expect(page.get_by_role("link", name="Copy of Spring news")).to_have_count(0)
    expect(page.get_by_role("link", name="Spring news")).to_be_visible()
    assert list(Campaign.objects.all()) == [original]


def test_a_finished_campaign_is_archived_and_found_under_archived(page: Any, staff: User) -> None:
    campaign = _draft("Sent in May")
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FINISHED)

    log_in(page, f"/campaigns/{campaign.pk}/")
    expect(page.get_by_role("link", name="Delete…")).to_have_count(0)
    page.get_by_role("button", name="Archive").click()
    expect(page.locator(".flash-success")).to_contain_text("Campaign archived")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Sent in May")).to_have_count(0)
    page.get_by_role("link", name="Archived").click()
    expect(page.get_by_role("heading", name="Archived campaigns")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "postino-campaigns-archived.png"), full_page=True)
    page.get_by_role("link", name="Sent in May").click()
    page.get_by_role("button", name="Unarchive").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("link", name="Sent in May")).to_be_visible()


def test_a_marketer_creates_a_layout_and_uses_it(page: Any, staff: User) -> None:
    campaign = _draft()
    log_in(page, "/layouts/")
    expect(page.get_by_role("heading", name="Layouts")).to_be_visible()
    page.get_by_role("link", name="New layout").first.click()

    # Without a content block, the layout is refused with the reason.
    page.fill("#id_name", "Branded")
    page.fill("#id_html", "<html><body>\n<header>Postino News</header>\n</body></html>")
    page.get_by_role("button", name="Create layout").click()
    expect(page.locator("#field-html .field-errors")).to_have_text(
        re.compile(r"must contain \{% block content %\}")
    )
    page.fill("#id_html", "<html><body>\n<header>Postino News</header>\n{% if %}\n</body></html>")
    page.get_by_role("button", name="Create layout").click()
    expect(page.locator("#field-html .field-errors")).to_have_text(re.compile(r"Line 3: "))
    page.screenshot(path=str(SCREENSHOTS / "postino-layout-error.png"), full_page=True)

    page.fill(
        "#id_html",
        "<html><body>\n<header>Postino News</header>\n{% block content %}{% endblock %}\n"
        "<footer>Sent with care</footer>\n</body></html>",
    )
    page.get_by_role("button", name="Create layout").click()
    expect(page.locator(".flash-success")).to_have_text("Layout “Branded” created.")
    expect(page.get_by_role("link", name="Branded")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "postino-layouts.png"), full_page=True)

    # The campaign form's Layout field offers it, and links to the layout pages.
    page.goto(f"/campaigns/{campaign.pk}/edit/")
    links = page.locator('[data-role="layout-links"]')
    expect(links.get_by_role("link", name="New layout")).to_have_attribute("href", "/layouts/new/")
    expect(links.get_by_role("link", name="Manage layouts")).to_have_attribute("href", "/layouts/")
    page.select_option("#id_template", label="Branded")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".flash-success")).to_have_text("Campaign saved.")
    page.get_by_role("link", name="Preview").click()
    frame = page.frame_locator("iframe.preview-frame")
    expect(frame.locator("header")).to_have_text("Postino News")
    expect(frame.locator("p")).to_have_text("Hi Sample Subscriber")
    expect(frame.locator("footer")).to_have_text("Sent with care")

    # In use, it cannot be deleted: the page names the campaign.
    layout = Template.objects.get()
    page.goto(f"/layouts/{layout.pk}/")
    page.screenshot(path=str(SCREENSHOTS / "postino-layout-edit.png"), full_page=True)
    page.get_by_role("link", name="Delete…").click()
    expect(page.locator(".alert-error")).to_contain_text(
        "1 campaign uses this layout: “Spring news”"
    )
    expect(page.get_by_role("button", name="Delete layout")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "postino-layout-delete-refused.png"), full_page=True)


def test_a_server_in_use_is_not_deleted_and_a_spare_one_is(page: Any, staff: User) -> None:
    campaign = _draft()
    assert campaign.smtp_server is not None
    spare = create_smtp_server(name="Spare", host="127.0.0.1", port=2525, security="none")

    log_in(page, f"/smtp/{campaign.smtp_server.pk}/")
    page.get_by_role("link", name="Delete server…").click()
    expect(page.locator(".alert-error")).to_contain_text("1 campaign sends or sent through it")
    expect(page.get_by_role("button", name="Delete server")).to_have_count(0)
    page.screenshot(path=str(SCREENSHOTS / "postino-server-delete-refused.png"), full_page=True)

    page.goto(f"/smtp/{spare.pk}/")
    page.screenshot(path=str(SCREENSHOTS / "postino-server-edit.png"), full_page=True)
    page.get_by_role("link", name="Delete server…").click()
    page.get_by_role("button", name="Delete server").click()
    expect(page.locator(".flash-success")).to_have_text("“Spare” deleted.")
    expect(page.get_by_role("link", name="Spare")).to_have_count(0)


def test_deleting_a_subscriber_with_history_says_what_goes_and_what_stays(
    page: Any, staff: User
) -> None:
    news = create_list(name="Newsletter")
    bea = create_subscriber(email="bea@example.com", lists=[news])
    sent = _draft("Sent in May", lists=[news])
    Delivery.objects.create(campaign=sent, subscriber=bea, status=Delivery.Status.SENT)
    Campaign.objects.filter(pk=sent.pk).update(status=Campaign.Status.FINISHED)
    Suppression.objects.create(email=bea.email, reason=Suppression.Reason.HARD_BOUNCE)

    log_in(page, f"/subscribers/{bea.pk}/")
    page.get_by_role("link", name="Delete…").click()
    impact = page.locator('[data-role="impact"]')
    expect(impact).to_contain_text("1 delivery record in 1 campaign is deleted")
    expect(impact).to_contain_text("The address stays suppressed")
    expect(impact.get_by_role("link", name="edit")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "postino-subscriber-delete-confirm.png"), full_page=True)
    page.get_by_role("button", name="Delete subscriber").click()
    expect(page.locator(".flash-success")).to_have_text("Subscriber bea@example.com deleted.")
    assert not Subscriber.objects.exists()
    assert Suppression.objects.filter(email="bea@example.com").exists()
