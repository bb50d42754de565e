"""What a recipient receives: tracked links and the pixel, unless the campaign says not."""

from __future__ import annotations

import itertools
import re

import pytest

from delivery.pipeline.prepare import MessageFactory
from subscribers.models import Subscriber
from tests.support.factories import make_campaign, make_list
from tracking import links

pytestmark = pytest.mark.django_db

NUMBERS = itertools.count()

HTML = (
    '<html><body><p>Hi {{ subscriber.name }}, see <a href="https://shop.example/sale?x=1&y=2">'
    'the sale</a> or <a href="mailto:help@example.com">write</a>.</p>'
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>'
)


def prepared(*, delivery_id: int | None = 1, **tracking: bool) -> tuple[Subscriber, object]:
    number = next(NUMBERS)
    campaign = make_campaign(lists=[make_list(f"News {number}")], server=None)
    campaign.html = HTML
    for name, value in tracking.items():
        setattr(campaign, name, value)
    campaign.save()
    ada = Subscriber.objects.create(email=f"ada{number}@example.com", name="Ada")
    return ada, MessageFactory(campaign).prepare(subscriber=ada, delivery_id=delivery_id)


def test_web_links_go_through_signed_redirects_and_the_pixel_is_added() -> None:
    ada, message = prepared(track_opens=True, track_clicks=True)
    html = message.html  # type: ignore[attr-defined]
    (tracked,) = re.findall(r'href="(https?://[^"]+/t/c/[^"]+)"', html)
    token, encoded = tracked.split("/t/c/")[1].split("/")
    read = links.read_click(token, encoded)
    assert (read.subscriber_id, read.url) == (ada.pk, "https://shop.example/sale?x=1&y=2")
    assert 'href="mailto:help@example.com"' in html
    assert re.search(r'href="https?://[^"]+/s/unsubscribe/[^"]+"', html)  # unsubscribe untouched
    assert re.search(r'<img src="https?://[^"]+/t/o/[^"]+\.gif"[^>]*></body>', html)
    text = message.text  # type: ignore[attr-defined]
    assert "/t/c/" in text and "https://shop.example/sale" not in text


def test_a_campaign_without_tracking_and_a_test_send_stay_as_written() -> None:
    _, message = prepared(track_opens=False, track_clicks=False)
    assert "/t/" not in message.html  # type: ignore[attr-defined]
    _, test_message = prepared(delivery_id=None, track_opens=True, track_clicks=True)
    assert "/t/" not in test_message.html  # type: ignore[attr-defined]


def test_privacy_mode_links_name_nobody() -> None:
    _, message = prepared(track_opens=True, track_clicks=True, tracking_privacy=True)
    (tracked,) = re.findall(r'/t/c/([^"]+)"', message.html)  # type: ignore[attr-defined]
    token, encoded = tracked.split("/")
    assert links.read_click(token, encoded).subscriber_id is None
