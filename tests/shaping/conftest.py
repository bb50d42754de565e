"""Fixtures for the traffic-shaping settings: servers to route campaigns through."""

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
def relay(db: None) -> SmtpServer:
    return create_smtp_server(name="Relay", host="smtp.example.com", port=587)


@pytest.fixture
def backup(db: None) -> SmtpServer:
    return create_smtp_server(name="Backup", host="smtp2.example.com", port=587)


@pytest.fixture
def overflow(db: None) -> SmtpServer:
    return create_smtp_server(name="Overflow", host="smtp3.example.com", port=587)


@pytest.fixture
def newsletter(db: None) -> MailingList:
    return create_list(name="Newsletter")


@pytest.fixture
def owner_api(owner: User) -> ApiClient:
    return ApiClient(create_token(user=owner))
