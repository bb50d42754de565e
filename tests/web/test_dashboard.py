from __future__ import annotations

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import MailingList, Subscriber
from subscribers.services import create_subscriber


def test_an_empty_dashboard_points_to_the_first_steps(teammate_client: Client, db: None) -> None:
    response = teammate_client.get(reverse("dashboard"))
    page = response.content.decode()
    assert "No campaigns yet" in page
    assert reverse("subscribers:list_create") in page
    assert response.context["list_count"] == 0


def test_the_dashboard_counts_lists_subscribers_and_campaigns_by_status(
    teammate_client: Client, campaign: Campaign, newsletter: MailingList, alice: Subscriber
) -> None:
    bob = create_subscriber(email="bob@example.com", lists=[newsletter])
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    Delivery.objects.create(campaign=campaign, subscriber=alice, status="sent")
    Delivery.objects.create(campaign=campaign, subscriber=bob, status="pending")

    response = teammate_client.get(reverse("dashboard"))
    assert response.context["list_count"] == 1
    assert response.context["subscriber_count"] == 2
    by_status = {value: count for value, _, count in response.context["campaigns_by_status"]}
    assert by_status["running"] == 1 and by_status["draft"] == 0
    [recent] = response.context["recent"]
    assert (recent.campaign, recent.sent, recent.pending, recent.percent) == (campaign, 1, 1, 50)
    assert 'style="width: 50%"' in response.content.decode()
