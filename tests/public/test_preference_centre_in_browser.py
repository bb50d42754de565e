"""The preference centre in headless Chromium: change lists, download one's
data, erase oneself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from subscribers.models import ConsentEvent, ErasedAddress, MailingList, Subscriber, Subscription
from subscribers.tokens import Purpose, make_token
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, browser, expect  # noqa: F401

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


def test_a_subscriber_changes_lists_downloads_their_data_and_erases_themselves(
    page: Any,
) -> None:
    news = MailingList.objects.create(name="News")
    MailingList.objects.create(name="Podcast", public=True)
    eve = Subscriber.objects.create(
        email="eve@example.com", name="Eve", attributes={"city": "Oslo"}
    )
    Subscription.objects.create(subscriber=eve, mailing_list=news, status="confirmed")
    token = make_token(Purpose.PREFERENCES, subscriber_id=eve.pk)

    page.goto(f"/s/preferences/{token}/")
    expect(page.get_by_role("heading", name="Preferences for eve@example.com")).to_be_visible()
    page.get_by_label("News").uncheck()
    page.get_by_label("Podcast").check()
    page.screenshot(path=str(SCREENSHOTS / "preference-centre.png"), full_page=True)
    page.get_by_role("button", name="Save preferences").click()
    expect(page.get_by_text("Your preferences have been saved.")).to_be_visible()
    expect(page.get_by_label("Podcast")).to_be_checked()
    # A list that is not public is gone from the page once left: it cannot be rejoined here.
    expect(page.get_by_label("News")).to_have_count(0)
    assert dict(eve.subscriptions.values_list("mailing_list__name", "status")) == {
        "News": "unsubscribed",
        "Podcast": "confirmed",
    }

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download everything we hold about you").click()
    download = download_info.value
    assert download.suggested_filename == "my-data.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["subscriber"]["attributes"] == {"city": "Oslo"}
    assert {s["list"] for s in data["subscriptions"]} == {"News", "Podcast"}

    page.get_by_role("link", name="Erase me").click()
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Erase me").click()
    expect(page.get_by_role("heading", name="You have been erased")).to_be_visible()
    assert not Subscriber.objects.exists()
    assert ErasedAddress.objects.count() == 1


def test_unsubscribing_from_everything_with_a_reason(page: Any) -> None:
    news = MailingList.objects.create(name="News")
    bob = Subscriber.objects.create(email="bob@example.com")
    Subscription.objects.create(subscriber=bob, mailing_list=news, status="confirmed")
    page.goto(f"/s/preferences/{make_token(Purpose.PREFERENCES, subscriber_id=bob.pk)}/")
    page.get_by_label("Why (optional)").select_option(label="Not what I expected")
    page.get_by_label("Anything to add?").fill("too salesy")
    page.get_by_role("button", name="Unsubscribe from everything").click()
    expect(page.get_by_text("You have been unsubscribed from everything.")).to_be_visible()
    assert bob.subscriptions.get().status == "unsubscribed"
    event = ConsentEvent.objects.get(kind="unsubscribed")
    assert (event.via, event.reason, event.reason_text) == ("link", "not_relevant", "too salesy")
