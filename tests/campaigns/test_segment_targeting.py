"""Campaigns aimed at segments: who the snapshot writes, and what is refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from bounces.models import Suppression
from campaigns.models import Campaign
from campaigns.selectors import audience_size
from campaigns.services import create_campaign, start_campaign, update_campaign
from delivery.models import Delivery, SmtpServer
from subscribers.models import Segment, Subscriber, Subscription
from subscribers.segments.services import SegmentInUse, create_segment, delete_segment
from tests.support.factories import HTML, add_audience, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


def city_segment(city: str, name: str = "") -> Segment:
    return create_segment(
        name=name or f"In {city}",
        definition={"conditions": [{"field": "attributes.city", "op": "eq", "value": city}]},
    )


def campaign_for(server: SmtpServer, **targets: object) -> Campaign:
    return create_campaign(
        name="Local news",
        subject="Hello",
        from_email="news@postino.example.com",
        html=HTML,
        smtp_server=server,
        lists=targets.pop("lists", []),  # type: ignore[arg-type]
        **targets,  # type: ignore[arg-type]
    )


def recipients(campaign: Campaign) -> set[str]:
    return set(
        Delivery.objects.filter(campaign=campaign).values_list("subscriber__email", flat=True)
    )


def test_segments_add_their_matches_and_exclusions_take_them_away(server: SmtpServer) -> None:
    news, offers = make_list("News"), make_list("Offers")
    readers = add_audience(news, 4)
    shoppers = add_audience(offers, 4, prefix="shopper")
    for person, city in zip(readers + shoppers, ["Berlin", "Rome"] * 4, strict=True):
        Subscriber.objects.filter(pk=person.pk).update(attributes={"city": city})
    # Matches the segment but agreed to nothing: a segment never reaches them.
    Subscriber.objects.create(email="stranger@example.org", attributes={"city": "Berlin"})
    # Matches, but unsubscribed from the only list they were on.
    gone = Subscriber.objects.create(email="gone@example.org", attributes={"city": "Berlin"})
    Subscription.objects.create(subscriber=gone, mailing_list=offers, status="unsubscribed")
    Suppression.objects.create(email=shoppers[2].email, reason="hard_bounce")
    berlin, rome = city_segment("Berlin"), city_segment("Rome")
    vip = create_segment(
        name="VIP",
        definition={"conditions": [{"field": "email", "op": "eq", "value": readers[0].email}]},
    )

    campaign = campaign_for(server, lists=[news], segments=[berlin], excluded_segments=[vip])
    size = audience_size(campaign)
    start_campaign(campaign=campaign)

    expected = {readers[1].email, readers[2].email, readers[3].email, shoppers[0].email}
    # shoppers[2] lives in Berlin too but is suppressed; readers[0] is excluded.
    assert recipients(campaign) == expected
    assert size == len(expected)

    only_segment = campaign_for(server, segments=[rome])
    start_campaign(campaign=only_segment)
    assert recipients(only_segment) == {
        readers[1].email,
        readers[3].email,
        shoppers[1].email,
        shoppers[3].email,
    }


def test_a_segment_is_evaluated_at_start_and_the_ledger_keeps_who_it_was(
    server: SmtpServer,
) -> None:
    news = make_list("News")
    first, second = add_audience(news, 2)
    Subscriber.objects.filter(pk=first.pk).update(attributes={"city": "Oslo"})
    campaign = campaign_for(server, segments=[city_segment("Oslo")])
    Subscriber.objects.filter(pk=second.pk).update(attributes={"city": "Oslo"})  # before the start
    start_campaign(campaign=campaign)
    Subscriber.objects.filter(pk=first.pk).update(attributes={"city": "Bergen"})  # after it
    assert recipients(campaign) == {first.email, second.email}


def test_nothing_to_target_and_both_ways_at_once_are_refused(server: SmtpServer) -> None:
    segment = city_segment("Paris")
    with pytest.raises(ValidationError) as caught:
        campaign_for(server, segments=[segment], excluded_segments=[segment])
    assert caught.value.message_dict == {
        "excluded_segments": ["Both targeted and excluded: In Paris."]
    }

    campaign = campaign_for(server)
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=campaign)
    assert caught.value.message_dict["lists"] == ["Choose at least one list or segment."]

    update_campaign(
        campaign=campaign,
        name=campaign.name,
        subject=campaign.subject,
        from_email=campaign.from_email,
        html=campaign.html,
        lists=[],
        smtp_server=server,
        segments=[segment],
    )
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=campaign)
    assert "its lists and segments have no confirmed" in caught.value.message_dict["lists"][0]


def test_a_segment_an_unstarted_campaign_uses_cannot_be_deleted(server: SmtpServer) -> None:
    segment = city_segment("Lima")
    campaign = campaign_for(server, lists=[make_list()], excluded_segments=[segment])
    with pytest.raises(
        SegmentInUse, match="Campaigns that have not started use this segment: “Local news”"
    ):
        delete_segment(segment=segment)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FINISHED)
    delete_segment(segment=segment)
    assert not Segment.objects.exists()
