"""A campaign's report: the ledger, bounces, unsubscribes and the tracking rollups."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import Delivery
from delivery.pipeline import record
from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.tokens import Purpose, make_token
from tests.api.client import ApiClient
from tracking import ingest, links

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_redis")]

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0"


def test_the_report_counts_people_apart_from_machines_with_links_days_and_domains(
    teammate_api: ApiClient, outsider_api: ApiClient, client: Client
) -> None:
    campaign = Campaign.objects.create(
        name="Spring", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )
    news = MailingList.objects.create(name="News")
    campaign.lists.set([news])
    people = [Subscriber.objects.create(email=f"p{n}@gmail.com") for n in range(4)]
    refused = Subscriber.objects.create(email="gone@yahoo.com")
    for person in [*people, refused]:
        Subscription.objects.create(
            subscriber=person, mailing_list=news, status=Subscription.Status.CONFIRMED
        )
    # Outcomes written the way a sending chunk writes them (which tallies domains).
    claim = uuid.uuid4()
    hour_ago = timezone.now() - timedelta(hours=1)
    outcomes = []
    for person in [*people, refused]:
        row = Delivery.objects.create(
            campaign=campaign, subscriber=person, status=Delivery.Status.CLAIMED, claim_token=claim
        )
        status = Delivery.Status.FAILED if person is refused else Delivery.Status.SENT
        outcomes.append(record.RowOutcome(row.pk, status, 1, 250, "ok", sent_at=hour_ago))
    record.apply_outcomes(claim, outcomes)
    BounceEvent.objects.create(
        kind=BounceEvent.Kind.HARD, source="dsn", email=people[3].email, campaign=campaign
    )
    for person in people[:2]:
        client.get(links.open_path(campaign.pk, person.pk), HTTP_USER_AGENT=BROWSER)
    client.get(links.open_path(campaign.pk, people[2].pk), HTTP_USER_AGENT="Mozilla/5.0")
    client.get(
        links.click_path(campaign.pk, people[0].pk, "https://shop.example/"),
        HTTP_USER_AGENT=BROWSER,
    )
    client.get(
        links.click_path(campaign.pk, people[1].pk, "https://shop.example/"),
        HTTP_USER_AGENT="Barracuda Sentinel",
    )
    ingest.drain()
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=people[1].pk, campaign_id=campaign.pk)
    client.post(f"/s/one-click/{token}/", {"List-Unsubscribe": "One-Click"}, secure=True)

    response = teammate_api.get(f"/campaigns/{campaign.pk}/report")
    assert response.status_code == 200
    report = response.json()
    assert {key: report[key] for key in ("sent", "delivered", "bounced", "complaints")} == {
        "sent": 4,
        "delivered": 3,
        "bounced": {"hard": 1, "soft": 0},
        "complaints": 0,
    }
    assert report["opens"] == {"unique": 2, "total": 2, "machine": 1}
    assert report["clicks"] == {
        "unique": 1,
        "total": 1,
        "machine": 1,
        "links": [{"url": "https://shop.example/", "unique": 1, "total": 1, "machine": 1}],
    }
    assert report["unsubscribed"] == 1
    assert report["unsubscribe_reasons"] == [{"reason": "", "label": "No reason given", "count": 1}]
    assert [day["opens"] for day in report["days"]] == [2]
    assert report["failed"] == 1
    assert report["domains"] == [
        {
            "domain": "gmail.com",
            "sent": 4,
            "delivered": 3,
            "failed": 0,
            "bounced": {"hard": 1, "soft": 0},
            "unique_opens": 2,
            "unique_clicks": 1,
        },
        {
            "domain": "yahoo.com",
            "sent": 0,
            "delivered": 0,
            "failed": 1,
            "bounced": {"hard": 0, "soft": 0},
            "unique_opens": 0,
            "unique_clicks": 0,
        },
    ]
    assert report["timeline"]["step"] == "hour"
    assert sum(point["opens"] for point in report["timeline"]["points"]) == 2
    assert outsider_api.get(f"/campaigns/{campaign.pk}/report").status_code == 403
    assert teammate_api.get("/campaigns/999999/report").status_code == 404
