"""The pixel and the redirect queue events; the ingest worker writes them once, with verdicts."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from postino.redis import redis_client
from subscribers.models import Subscriber
from tracking import ingest, links, queue
from tracking.models import CampaignHour, DomainStats, Engagement, Event, LinkStats

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]

BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


@pytest.fixture
def campaign() -> Campaign:
    return Campaign.objects.create(
        name="Spring", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )


@pytest.fixture
def ada(campaign: Campaign) -> Subscriber:
    ada = Subscriber.objects.create(email="ada@gmail.com", name="Ada")
    Delivery.objects.create(
        campaign=campaign,
        subscriber=ada,
        status=Delivery.Status.SENT,
        sent_at=timezone.now() - timedelta(hours=1),
    )
    return ada


def age_claims() -> None:
    """As if the lease of every claim in the queue ran out."""
    client = redis_client()
    client.zadd(queue.CLAIMS, dict.fromkeys(client.zrange(queue.CLAIMS, 0, -1), 0))


def open_(client: Client, campaign: Campaign, subscriber: Subscriber | None, **headers: Any) -> Any:
    path = links.open_path(campaign.pk, subscriber.pk if subscriber else None)
    return client.get(path, **headers)


def click(
    client: Client, campaign: Campaign, subscriber: Subscriber | None, url: str, **headers: Any
) -> Any:
    path = links.click_path(campaign.pk, subscriber.pk if subscriber else None, url)
    return client.get(path, **headers)


def test_the_pixel_and_the_redirect_answer_at_once_and_queue_their_events(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    pixel = open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    assert pixel.status_code == 200 and pixel["Content-Type"] == "image/gif"
    assert "no-store" in pixel["Cache-Control"]
    redirect = click(client, campaign, ada, "https://shop.example/?a=1", HTTP_USER_AGENT=BROWSER)
    assert (redirect.status_code, redirect["Location"]) == (302, "https://shop.example/?a=1")
    assert queue.depth() == 2
    assert not Event.objects.exists()  # nothing waited on the database


def test_a_tampered_or_foreign_link_answers_404_and_queues_nothing(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    path = links.click_path(campaign.pk, ada.pk, "https://shop.example/")
    forged = path.rsplit("/", 1)[0] + "/aHR0cHM6Ly9ldmlsLmV4YW1wbGUv"  # https://evil.example/
    assert client.get(forged).status_code == 404
    assert client.get("/t/o/1.2.AAAAAAAAAAAAAAAAAAAAAA.gif").status_code == 404
    assert client.post(path).status_code == 405
    assert queue.depth() == 0


def test_ingest_counts_human_opens_and_clicks_with_uniques_and_links(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    click(client, campaign, ada, "https://shop.example/", HTTP_USER_AGENT=BROWSER)
    assert ingest.drain() == 3
    time.sleep(0.01)
    click(client, campaign, ada, "https://shop.example/", HTTP_USER_AGENT=BROWSER)
    assert ingest.drain() == 1

    assert Event.objects.filter(human=True).count() == 4
    day = CampaignHour.objects.get(campaign=campaign)
    assert (day.opens, day.unique_opens, day.machine_opens) == (2, 1, 0)
    assert (day.clicks, day.unique_clicks, day.machine_clicks) == (2, 1, 0)
    stats = LinkStats.objects.get()
    assert (stats.link.url, stats.clicks, stats.unique_clicks) == ("https://shop.example/", 2, 1)
    engagement = Engagement.objects.get()
    assert (engagement.opens, engagement.clicks) == (2, 2)
    assert engagement.first_opened_at is not None
    assert engagement.first_clicked_at and engagement.last_clicked_at
    assert engagement.last_clicked_at > engagement.first_clicked_at
    domain = DomainStats.objects.get()
    assert (domain.domain, domain.unique_opens, domain.unique_clicks) == ("gmail.com", 1, 1)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"HTTP_USER_AGENT": "Mozilla/5.0"}, "apple-mpp"),
        ({"HTTP_USER_AGENT": BROWSER, "REMOTE_ADDR": "17.58.1.2"}, "apple-mpp"),
        (
            {
                "HTTP_USER_AGENT": "Mozilla/5.0 (Windows NT 5.1; rv:11.0) "
                "(via ggpht.com GoogleImageProxy)"
            },
            "image-proxy",
        ),
        ({}, "scanner-agent"),
    ],
)
def test_machine_opens_are_kept_apart_with_their_reason(
    client: Client, campaign: Campaign, ada: Subscriber, headers: dict[str, str], reason: str
) -> None:
    open_(client, campaign, ada, **headers)
    ingest.drain()
    event = Event.objects.get()
    assert (event.human, event.reason) == (False, reason)
    day = CampaignHour.objects.get()
    assert (day.opens, day.unique_opens, day.machine_opens) == (0, 0, 1)


def test_scanner_clicks_by_agent_by_timing_and_by_every_link_at_once(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    click(client, campaign, ada, "https://a.example/", HTTP_USER_AGENT="Mimecast Link Scanner")
    click(client, campaign, ada, "https://b.example/", REQUEST_METHOD="HEAD")
    for url in ("https://c.example/", "https://d.example/", "https://e.example/"):
        click(client, campaign, ada, url, HTTP_USER_AGENT=BROWSER)
    bob = Subscriber.objects.create(email="bob@outlook.com")
    Delivery.objects.create(
        campaign=campaign, subscriber=bob, status=Delivery.Status.SENT, sent_at=timezone.now()
    )
    click(client, campaign, bob, "https://c.example/", HTTP_USER_AGENT=BROWSER)
    ingest.drain()
    reasons = sorted(Event.objects.values_list("reason", flat=True))
    assert reasons == ["every-link"] * 3 + ["scanner-agent"] * 2 + ["too-soon"]
    day = CampaignHour.objects.get()
    assert (day.clicks, day.unique_clicks, day.machine_clicks) == (0, 0, 6)
    assert not DomainStats.objects.exists()


def test_privacy_mode_counts_without_naming_anyone(client: Client, campaign: Campaign) -> None:
    open_(client, campaign, None, HTTP_USER_AGENT=BROWSER)
    click(client, campaign, None, "https://shop.example/", HTTP_USER_AGENT=BROWSER)
    ingest.drain()
    assert set(Event.objects.values_list("subscriber_id", flat=True)) == {None}
    day = CampaignHour.objects.get()
    assert (day.opens, day.clicks, day.unique_opens, day.unique_clicks) == (1, 1, 0, 0)
    assert not Engagement.objects.exists()


def test_a_batch_committed_but_not_acknowledged_is_not_counted_twice(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    token, events = queue.claim(100)
    ingest.ingest(token, events)  # the drain died here, before queue.ack
    age_claims()
    assert ingest.drain() == 0
    assert Event.objects.count() == 1
    assert CampaignHour.objects.get().opens == 1
    assert queue.stalled() == []


def test_a_batch_claimed_by_a_drain_that_died_is_ingested_by_the_next(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    queue.claim(100)  # claimed, then the worker was killed before writing
    assert ingest.drain() == 0  # the claim is fresh: not taken over yet
    age_claims()
    assert ingest.drain() == 2
    assert CampaignHour.objects.get().opens == 2


def test_events_of_a_deleted_campaign_are_dropped(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    campaign.delete()
    assert ingest.drain() == 0
    assert queue.depth() == 0


def test_raw_events_past_the_retention_go_and_the_rollups_stay(
    client: Client, campaign: Campaign, ada: Subscriber, settings: Any
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    ingest.drain()
    Event.objects.update(occurred_at=timezone.now() - timedelta(days=200))
    settings.POSTINO = {**settings.POSTINO, "TRACKING_RETENTION_DAYS": 180}
    assert ingest.forget_old() == 1
    assert CampaignHour.objects.get().opens == 1


def test_deleting_a_campaign_or_a_subscriber_takes_their_tracking_rows(
    client: Client, campaign: Campaign, ada: Subscriber
) -> None:
    open_(client, campaign, ada, HTTP_USER_AGENT=BROWSER)
    click(client, campaign, ada, "https://shop.example/", HTTP_USER_AGENT=BROWSER)
    ingest.drain()
    ada.delete()
    assert not Event.objects.exists() and not Engagement.objects.exists()
    assert CampaignHour.objects.exists()  # the campaign's figures stay
    campaign.delete()
    assert not CampaignHour.objects.exists() and not LinkStats.objects.exists()
