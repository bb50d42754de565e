"""Building a segment in the browser: rows and groups, the live count, errors
on the row they concern, and a campaign aimed at the saved segment."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User

from campaigns.models import Campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList, Segment, Subscriber, Subscription
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in, write_html_body
from tests.support.factories import HTML

pytestmark = BROWSER_MARKS


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def audience(staff: User) -> MailingList:
    news = MailingList.objects.create(name="News")
    people = [
        ("ada@example.com", {"city": "Berlin", "age": 36}),
        ("bob@example.com", {"city": "Berlin", "age": 19}),
        ("cleo@shop.example", {"city": "Rome", "age": 52}),
        ("dan@example.com", {"city": "Oslo", "age": 44}),
    ]
    for email, attributes in people:
        person = Subscriber.objects.create(email=email, attributes=attributes)
        Subscription.objects.create(subscriber=person, mailing_list=news, status="confirmed")
    return news


def test_a_segment_is_built_with_a_live_count_and_targeted_by_a_campaign(
    page: Any, audience: MailingList
) -> None:
    log_in(page, "/segments/new/")
    count = page.locator('[data-role="segment-count"]')
    # The JSON field is the builder's output, hidden behind it.
    expect(page.locator("#id_definition")).to_be_hidden()
    # Nothing is counted before there is something to count.
    expect(count).to_have_text("—")

    row = page.locator(".segment-row").first
    row.get_by_label("Field").select_option("attribute")
    row.get_by_label("Attribute").fill("city")
    row.get_by_label("Comparison").select_option("eq")
    row.get_by_label("Value").fill("Berlin")
    expect(count).to_have_text("2")

    page.get_by_role("button", name="Add group").click()
    group = page.locator(".segment-group .segment-group")
    group.get_by_label("Match").select_option("any")
    inner = group.locator(".segment-row").first
    inner.get_by_label("Field").select_option("attribute")
    inner.get_by_label("Attribute").fill("age")
    inner.get_by_label("Comparison").select_option("gt")
    inner.get_by_label("Value").fill("30")
    expect(count).to_have_text("1")
    group.get_by_role("button", name="Add condition").click()
    second = group.locator(".segment-row").nth(1)
    second.get_by_label("Field").select_option("domain")
    second.get_by_label("Comparison").select_option("eq")
    second.get_by_label("Value").fill("example.com")
    expect(count).to_have_text("2")
    expect(page.locator('[data-role="segment-summary"]')).to_have_text(
        "city is Berlin and (age is more than 30 or domain is example.com)"
    )

    # A wrong value is marked on its row, and the count waits for the fix.
    inner.get_by_label("Comparison").select_option("in")
    inner.get_by_label("Value").fill("")
    expect(inner.locator(".field-errors")).to_have_text("'in' takes a non-empty list of values.")
    expect(count).to_have_text("—")
    inner.get_by_label("Value").fill("36, 44")
    expect(count).to_have_text("2")
    page.screenshot(path=str(SCREENSHOTS / "segment-builder.png"), full_page=True)

    page.get_by_label("Name").fill("Berliners")
    page.get_by_role("button", name="Create segment").click()
    expect(page.get_by_role("heading", name="Berliners")).to_be_visible()
    expect(page.locator('[data-role="segment-count"]')).to_have_text("2")
    segment = Segment.objects.get()
    assert segment.definition["conditions"][1]["conditions"][0] == {
        "field": "attributes.age",
        "op": "in",
        "value": ["36", "44"],
    }

    # Editing opens the builder on the saved conditions.
    page.get_by_role("link", name="Edit").click()
    expect(page.locator(".segment-row")).to_have_count(3)
    expect(page.locator(".segment-row").first.get_by_label("Value")).to_have_value("Berlin")
    expect(count).to_have_text("2")

    # A campaign aimed at the segment alone, no list.
    relay = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")
    page.goto("/campaigns/new/")
    page.get_by_label("Name", exact=True).fill("Berlin news")
    page.get_by_label("Subject").fill("Hello Berlin")
    write_html_body(page, HTML)
    page.locator("#field-segments").get_by_label("Berliners").check()
    page.get_by_label("SMTP server").select_option(value=str(relay.pk))
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Berliners").first).to_be_visible()
    campaign = Campaign.objects.get()
    assert list(campaign.segments.values_list("name", flat=True)) == ["Berliners"]
    assert json.dumps(list(campaign.lists.all())) == "[]"
