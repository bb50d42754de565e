"""Starting a campaign: past schedules refused, an empty audience refused, and
the audience count shown for confirmation is exactly who the snapshot writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bounces.models import Suppression
from campaigns.models import Campaign
from campaigns.selectors import audience_size
from campaigns.services import (
    check_startable,
    snapshot_audience,
    start_campaign,
    start_due_scheduled_campaigns,
)
from delivery.models import Delivery, SmtpServer
from subscribers.models import Subscriber, Subscription
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db


@pytest.fixture
def server() -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


def test_the_audience_size_counts_exactly_whom_the_snapshot_writes(
    server: SmtpServer, django_assert_num_queries
) -> None:
    news, offers = make_list("News"), make_list("Offers")
    readers = add_audience(news, 6)
    Subscription.objects.create(subscriber=readers[0], mailing_list=offers, status="confirmed")
    add_audience(offers, 2, prefix="offer")
    add_audience(news, 2, prefix="unconfirmed", status="unconfirmed")
    Subscriber.objects.filter(pk=readers[1].pk).update(status="blocklisted")
    Suppression.objects.create(email=readers[2].email, reason="hard_bounce")
    campaign = make_campaign(lists=[news, offers], server=server)

    # One read of the campaign's segments, one COUNT.
    with django_assert_num_queries(2):
        size = audience_size(campaign)
    assert size == 6  # 6 readers + 2 offers, less one blocklisted and one suppressed
    assert snapshot_audience(campaign) == size


def test_a_schedule_in_the_past_is_refused_and_nothing_is_written(server: SmtpServer) -> None:
    news = make_list()
    add_audience(news, 3)
    campaign = make_campaign(lists=[news], server=server)
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=campaign, scheduled_at=timezone.now() - timedelta(days=3))
    message = caught.value.message_dict["scheduled_at"][0]
    assert "has already passed" in message
    assert "(UTC)" in message
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_the_confirmation_check_refuses_what_start_would_refuse(server: SmtpServer) -> None:
    news = make_list()
    add_audience(news, 1)
    campaign = make_campaign(lists=[news], server=server)
    check_startable(campaign=campaign, scheduled_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(ValidationError) as caught:
        check_startable(campaign=campaign, scheduled_at=timezone.now() - timedelta(minutes=1))
    assert set(caught.value.message_dict) == {"scheduled_at"}
    assert not Delivery.objects.filter(campaign=campaign).exists()


def test_a_start_that_reaches_nobody_is_refused_and_the_campaign_stays_a_draft(
    server: SmtpServer,
) -> None:
    news = make_list()
    add_audience(news, 2, status="unconfirmed")
    campaign = make_campaign(lists=[news], server=server)
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=campaign)
    assert "Nobody would receive this campaign" in caught.value.message_dict["lists"][0]
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.started_at is None


def test_a_scheduled_campaign_that_finds_nobody_when_due_goes_back_to_draft_saying_why(
    server: SmtpServer,
) -> None:
    campaign = make_campaign(lists=[make_list()], server=server)
    start_campaign(campaign=campaign, scheduled_at=timezone.now() + timedelta(hours=1))
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())

    assert start_due_scheduled_campaigns() == []

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.status_reason.startswith("Scheduled start failed: ")
    assert "Nobody would receive this campaign" in campaign.status_reason
