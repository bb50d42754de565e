"""A subscriber on three lists, and a campaign sent to two of them."""

from __future__ import annotations

import pytest
from django.test import Client

from campaigns.models import Campaign
from campaigns.services import create_campaign
from subscribers.models import MailingList, Subscriber
from subscribers.services import create_list, create_subscriber


@pytest.fixture
def newsletter(db: None) -> MailingList:
    return create_list(name="Newsletter")


@pytest.fixture
def offers(db: None) -> MailingList:
    return create_list(name="Offers")


@pytest.fixture
def events(db: None) -> MailingList:
    return create_list(name="Events")


@pytest.fixture
def alice(newsletter: MailingList, offers: MailingList, events: MailingList) -> Subscriber:
    return create_subscriber(
        email="alice@example.com",
        name="Alice",
        attributes={"city": "Lyon"},
        lists=[newsletter, offers, events],
    )


@pytest.fixture
def campaign(newsletter: MailingList, offers: MailingList) -> Campaign:
    return create_campaign(
        name="Spring sale",
        subject="Hello {{ subscriber.name }}",
        from_email="news@example.com",
        html=(
            "<p>Hello {{ subscriber.name }} from {{ subscriber.attributes.city }}</p>"
            '<a href="{{ unsubscribe_url }}">Unsubscribe</a>'
        ),
        lists=[newsletter, offers],
        smtp_server=None,
    )


@pytest.fixture
def browser(db: None) -> Client:
    """A visitor's browser: cookies, and CSRF checks enforced as in production."""
    return Client(enforce_csrf_checks=True)
