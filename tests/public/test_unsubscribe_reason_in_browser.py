"""In headless Chromium: a signed-out reader follows the unsubscribe link in
a campaign email, says why they leave, and the campaign's count has them."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from campaigns.models import Campaign
from delivery.pipeline.prepare import MessageFactory
from subscribers.models import ConsentEvent, Subscriber
from subscribers.selectors import ReasonCount, unsubscribe_reasons
from tests.public.helpers import active_lists

# tests/public/conftest.py calls Django's test client "browser"; here it is Chromium.
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, browser, expect  # noqa: F401

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def email_html(
    alice: Subscriber, campaign: Campaign, settings: Any, live_server: LiveServer
) -> str:
    """The HTML of the campaign email Alice received, its links on the live server."""
    settings.BASE_URL = live_server.url
    return MessageFactory(campaign).prepare(subscriber=alice, delivery_id=None).html


def test_a_reader_unsubscribes_from_the_email_giving_a_reason_and_the_campaign_counts_it(
    page: Any, alice: Subscriber, campaign: Campaign, email_html: str
) -> None:
    found = re.search(r'<a href="([^"]+)">Unsubscribe</a>', email_html)
    assert found, "the email carries an unsubscribe link"
    page.goto(html.unescape(found.group(1)))
    expect(page.get_by_role("heading", name="Unsubscribe alice@example.com?")).to_be_visible()

    page.get_by_label("Why (optional)").select_option(label="Not what I expected")
    page.get_by_label("Anything to add?").fill("I wanted the recipes only")
    page.screenshot(path=str(SCREENSHOTS / "public-unsubscribe-reason.png"), full_page=True)
    page.get_by_role("button", name="Unsubscribe").click()

    expect(page.get_by_role("heading", name="You have been unsubscribed")).to_be_visible()
    assert active_lists(alice) == {"Events"}  # the campaign went to Newsletter and Offers
    assert set(
        ConsentEvent.objects.filter(kind="unsubscribed").values_list(
            "campaign_id", "reason", "reason_text"
        )
    ) == {(campaign.pk, "not_relevant", "I wanted the recipes only")}
    assert unsubscribe_reasons(campaign.pk) == [
        ReasonCount(code="not_relevant", label="Not what I expected", count=1)
    ]
