"""What counts as an attempt in a bounce rate: a refusal while sending adds
one, a report about a message already sent does not. The campaign page, the
dashboard card and the auto-pause all read the same figures."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bounces import selectors
from bounces.models import BounceEvent, BouncePolicy
from bounces.services import campaign_bounce_rates, check_campaign_health
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

Kind, Source = BounceEvent.Kind, BounceEvent.Source


@pytest.fixture
def campaign() -> Campaign:
    """Six delivered (one bounced later by DSN) and one refused at RCPT time."""
    campaign = Campaign.objects.create(
        name="Spring news", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )
    now = timezone.now()
    rows = [
        Delivery.objects.create(
            campaign=campaign,
            subscriber=Subscriber.objects.create(email=f"r{i}@example.com"),
            status=Delivery.Status.SENT,
            sent_at=now,
        )
        for i in range(6)
    ]
    refused = Delivery.objects.create(
        campaign=campaign,
        subscriber=Subscriber.objects.create(email="nobody@example.com"),
        status=Delivery.Status.FAILED,
        attempts=1,
        smtp_code=550,
    )
    BounceEvent.objects.create(
        kind=Kind.HARD, source=Source.SMTP, email="nobody@example.com",
        campaign=campaign, delivery=refused, status="5.1.1",
    )  # fmt: skip
    BounceEvent.objects.create(
        kind=Kind.HARD, source=Source.INBOUND, email=rows[0].subscriber.email,
        campaign=campaign, delivery=rows[0], status="5.1.1",
    )  # fmt: skip
    return campaign


def test_a_refusal_while_sending_adds_an_attempt_and_a_later_bounce_does_not(
    campaign: Campaign,
) -> None:
    summary = selectors.campaign_bounce_summary([campaign.pk])[campaign.pk]
    assert (summary.sent, summary.refused, summary.hard) == (6, 1, 2)
    assert summary.attempted == 7  # 6 sent + 1 refused; the DSN is about one of the 6
    assert summary.bounce_rate == pytest.approx(2 / 7)


def test_the_auto_pause_judges_the_same_figures(campaign: Campaign) -> None:
    rates = campaign_bounce_rates(campaign.pk)
    assert (rates["sent"], rates["attempted"], rates["hard"]) == (6, 7, 2)
    assert rates["hard_rate"] == pytest.approx(2 / 7)

    policy = BouncePolicy.current()
    policy.pause_min_sent, policy.pause_hard_bounce_rate = 7, 0.25
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    assert check_campaign_health(campaign.pk, policy)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "28.6% (2 addresses)" in campaign.status_reason


def test_the_campaign_page_and_the_dashboard_say_two_of_seven(
    campaign: Campaign, teammate_client: Client
) -> None:
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "2 of 7" in page
    dashboard = teammate_client.get(reverse("dashboard")).content.decode()
    assert "2 of 7" in dashboard
    assert "1 of 7" not in dashboard and "2 of 8" not in dashboard
