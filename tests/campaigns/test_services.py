from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.rendering import TemplateValidationError
from campaigns.services import (
    CampaignStateError,
    cancel_campaign,
    create_campaign,
    parse_test_recipients,
    pause_campaign,
    resume_campaign,
    send_test,
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


def test_the_audience_is_confirmed_enabled_subscribers_deduplicated_across_lists(
    server: SmtpServer,
) -> None:
    news, offers = make_list("News"), make_list("Offers")
    readers = add_audience(news, 5)
    Subscription.objects.create(subscriber=readers[0], mailing_list=offers, status="confirmed")
    add_audience(offers, 2, prefix="offer")
    add_audience(news, 2, prefix="unconfirmed", status="unconfirmed")
    add_audience(news, 2, prefix="left", status="unsubscribed")
    Subscriber.objects.filter(pk=readers[1].pk).update(status="blocklisted")
    campaign = make_campaign(lists=[news, offers], server=server)

    assert snapshot_audience(campaign) == 6
    emails = set(
        Delivery.objects.filter(campaign=campaign).values_list("subscriber__email", flat=True)
    )
    assert emails == {
        "reader0@example.org", "reader2@example.org", "reader3@example.org",
        "reader4@example.org", "offer0@example.org", "offer1@example.org",
    }  # fmt: skip


def test_a_second_snapshot_adds_nobody_twice(server: SmtpServer) -> None:
    news = make_list()
    add_audience(news, 3)
    campaign = make_campaign(lists=[news], server=server)
    snapshot_audience(campaign)
    assert snapshot_audience(campaign) == 0
    assert Delivery.objects.filter(campaign=campaign).count() == 3


def test_starting_snapshots_the_audience_and_queues_the_send(
    server: SmtpServer, django_capture_on_commit_callbacks
) -> None:
    news = make_list()
    add_audience(news, 4)
    campaign = make_campaign(lists=[news], server=server)
    with django_capture_on_commit_callbacks() as callbacks:
        start_campaign(campaign=campaign)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert campaign.started_at is not None
    assert Delivery.objects.filter(campaign=campaign, status="pending").count() == 4
    assert len(callbacks) == 1


def test_a_campaign_cannot_start_twice(
    server: SmtpServer, django_capture_on_commit_callbacks
) -> None:
    news = make_list()
    add_audience(news, 1)
    campaign = make_campaign(lists=[news], server=server)
    with django_capture_on_commit_callbacks():
        start_campaign(campaign=campaign)
    with pytest.raises(CampaignStateError):
        start_campaign(campaign=campaign)


def test_a_campaign_without_lists_or_server_cannot_start() -> None:
    campaign = make_campaign(lists=[], server=None)
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=campaign)
    assert set(caught.value.message_dict) == {"smtp_server", "lists"}


def test_scheduling_in_the_future_waits_until_due(
    server: SmtpServer, django_capture_on_commit_callbacks
) -> None:
    news = make_list()
    add_audience(news, 2)
    campaign = make_campaign(lists=[news], server=server)
    start_campaign(campaign=campaign, scheduled_at=timezone.now() + timedelta(hours=1))
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert start_due_scheduled_campaigns() == []
    Campaign.objects.filter(pk=campaign.pk).update(scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks():
        assert start_due_scheduled_campaigns() == [campaign.pk]
    assert Delivery.objects.filter(campaign=campaign).count() == 2


def test_pause_resume_and_cancel_follow_the_status_rules(
    server: SmtpServer, django_capture_on_commit_callbacks
) -> None:
    news = make_list()
    add_audience(news, 1)
    campaign = make_campaign(lists=[news], server=server)
    with pytest.raises(CampaignStateError):
        pause_campaign(campaign=campaign)
    with django_capture_on_commit_callbacks():
        start_campaign(campaign=campaign)
    assert pause_campaign(campaign=campaign).status == Campaign.Status.PAUSED
    with pytest.raises(CampaignStateError):
        pause_campaign(campaign=campaign)
    with django_capture_on_commit_callbacks() as callbacks:
        assert resume_campaign(campaign=campaign).status == Campaign.Status.RUNNING
    assert len(callbacks) == 1
    assert cancel_campaign(campaign=campaign).status == Campaign.Status.CANCELLED
    with pytest.raises(CampaignStateError):
        resume_campaign(campaign=campaign)


def test_a_bad_template_is_refused_at_creation_with_its_line() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        create_campaign(
            name="x",
            subject="Hi",
            from_email="a@example.com",
            html="<p>\n{{ subscriber.name }\n</p>",
            lists=[],
            smtp_server=None,
        )
    assert caught.value.problems[0].field == "html"
    assert caught.value.problems[0].line == 2


@pytest.mark.parametrize("value", ["", "not an address", "a@example.com\nBcc: x@example.com"])
def test_a_bad_from_address_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as caught:
        create_campaign(
            name="x", subject="Hi", from_email=value, html="x", lists=[], smtp_server=None
        )
    assert "from_email" in caught.value.message_dict


def test_test_recipients_are_parsed_and_validated() -> None:
    assert parse_test_recipients("A <a@example.com>, b@example.com; a@example.com") == [
        "a@example.com",
        "b@example.com",
    ]
    with pytest.raises(ValidationError, match="not-an-email"):
        parse_test_recipients(["ok@example.com", "not-an-email"])
    with pytest.raises(ValidationError):
        parse_test_recipients("")


def test_a_test_send_is_queued_after_commit(
    server: SmtpServer, django_capture_on_commit_callbacks
) -> None:
    campaign = make_campaign(lists=[make_list()], server=server)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_test(campaign=campaign, emails=["me@example.com"]) == ["me@example.com"]
    assert len(callbacks) == 1
