"""API fixtures: a JSON client per persona, holding that persona's bearer token."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from api.services import create_token
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList
from subscribers.services import create_list
from tests.api.client import ApiClient


@pytest.fixture
def anonymous_api(db: None) -> ApiClient:
    return ApiClient()


@pytest.fixture
def owner_api(owner: User) -> ApiClient:
    return ApiClient(create_token(user=owner, name="owner's script"))


@pytest.fixture
def teammate_api(teammate: User) -> ApiClient:
    return ApiClient(create_token(user=teammate))


@pytest.fixture
def outsider_api(outsider: User) -> ApiClient:
    return ApiClient(create_token(user=outsider))


@pytest.fixture
def newsletter(db: None) -> MailingList:
    return create_list(name="Newsletter")


@pytest.fixture
def announcements(db: None) -> MailingList:
    return create_list(name="Announcements", optin=MailingList.OptIn.DOUBLE)


@pytest.fixture
def smtp_server(db: None) -> SmtpServer:
    return create_smtp_server(
        name="Relay", host="smtp.example.com", port=587, username="relay", password="s3cret"
    )
