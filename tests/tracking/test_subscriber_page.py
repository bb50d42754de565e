"""A subscriber's page shows what they opened and clicked, apart from their mail proxy's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber
from tracking.models import Engagement

pytestmark = pytest.mark.django_db


def test_each_message_shows_the_subscribers_opens_and_clicks(teammate_client: Client) -> None:
    ada = Subscriber.objects.create(email="ada@example.com")
    opened = timezone.now() - timedelta(hours=2)
    for name in ("Spring", "Summer"):
        campaign = Campaign.objects.create(
            name=name, subject="Hi", from_email="n@example.com", html="<p>Hi</p>"
        )
        Delivery.objects.create(campaign=campaign, subscriber=ada, status="sent", sent_at=opened)
    Engagement.objects.create(
        campaign=campaign,  # Summer
        subscriber=ada,
        opens=2,
        machine_opens=1,
        first_opened_at=opened,
        last_opened_at=opened,
    )
    page = teammate_client.get(f"/subscribers/{ada.pk}/").content.decode()
    summer, spring = page.split('data-role="opened">')[1:3]
    assert summer.startswith("2\u00d7 · last ") and "1 by a mail proxy" in summer
    assert spring.startswith("—")
