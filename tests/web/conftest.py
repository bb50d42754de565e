"""Fixtures for the marketer web UI tests: a little world to click around in."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList, Subscriber
from subscribers.services import create_list, create_subscriber


@pytest.fixture(autouse=True)
def _plain_http_and_static(settings: Any) -> None:
    # The suite's BASE_URL is https, which turns on the HTTPS redirect and
    # secure cookies; the test client and live server speak plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    # Production uses whitenoise's manifest storage, which needs collectstatic;
    # tests resolve {% static %} straight from the source tree instead.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def mailcatcher_on(settings: Any) -> None:
    settings.POSTINO = {**settings.POSTINO, "MAILCATCHER_ENABLED": True}


@pytest.fixture
def mailcatcher_off(settings: Any) -> None:
    settings.POSTINO = {**settings.POSTINO, "MAILCATCHER_ENABLED": False}


@pytest.fixture
def newsletter(db: None) -> MailingList:
    return create_list(name="Newsletter", description="Monthly news")


@pytest.fixture
def alice(newsletter: MailingList) -> Subscriber:
    return create_subscriber(
        email="alice@example.com",
        name="Alice",
        attributes={"city": "Lisbon"},
        lists=[newsletter],
    )


@pytest.fixture
def smtp_server(db: None) -> SmtpServer:
    return create_smtp_server(
        name="Relay",
        host="smtp.example.com",
        port=587,
        username="mailer",
        password="s3cret-relay-password",
    )


@pytest.fixture
def campaign(newsletter: MailingList, smtp_server: SmtpServer) -> Campaign:
    return create_campaign(
        name="Spring news",
        subject="Hello {{ subscriber.name }}",
        from_email="News <news@example.com>",
        html="<p>Hi {{ subscriber.name }}, you live in {{ subscriber.attributes.city }}.</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
    )
