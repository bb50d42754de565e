"""Shared fixtures: named personas, and environment defaults for the suite.

Personas (as in a team): ``owner`` (superuser), ``teammate`` (staff member),
``outsider`` (an active account that is not on the team). Anonymous visitors
are the plain ``client``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production's manifest storage needs `collectstatic`; tests read the sources.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create_superuser("owner", "owner@example.com", PASSWORD)


@pytest.fixture
def teammate(db: None) -> User:
    return User.objects.create_user("teammate", "teammate@example.com", PASSWORD, is_staff=True)


@pytest.fixture
def outsider(db: None) -> User:
    return User.objects.create_user("outsider", "outsider@example.com", PASSWORD)


@pytest.fixture
def owner_client(owner: User) -> Client:
    client = Client()
    client.force_login(owner)
    return client


@pytest.fixture
def teammate_client(teammate: User) -> Client:
    client = Client()
    client.force_login(teammate)
    return client


@pytest.fixture
def outsider_client(outsider: User) -> Client:
    client = Client()
    client.force_login(outsider)
    return client
