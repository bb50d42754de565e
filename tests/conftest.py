"""Shared fixtures: named personas, and environment defaults for the suite.

Personas (as in a team): ``owner`` (superuser), ``teammate`` (staff member),
``outsider`` (an active account that is not on the team). Anonymous visitors
are the plain ``client``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from api.services import forget_recent_tokens
from delivery.pipeline.gate import forget_domain_limits
from delivery.pipeline.transmit import forget_speeds
from postino.redis import redis_client
from tests.support.browser import browser, live_server, page
from tests.support.certs import CertificateFiles, make_certificates
from tests.support.jobs import queued_jobs
from tests.support.redis import assert_redis_is_disposable
from tests.support.smtpd import RunningSmtpServer, smtp_server

PASSWORD = "correct horse battery staple"
# Registered here for every test package (see tests/support/browser.py and jobs.py).
__all__ = ["browser", "live_server", "page", "queued_jobs"]


@pytest.fixture(autouse=True)
def _test_settings(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Production's manifest storage needs `collectstatic`; tests read the sources.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # A token checked in one test is not trusted from memory in the next.
    forget_recent_tokens()


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


# --- Real servers on loopback, shared by the suites -------------------------------


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateFiles]:
    certs = make_certificates(tmp_path_factory.mktemp("certs"))
    # Our SMTP client verifies against the system trust store, which OpenSSL
    # locates through SSL_CERT_FILE: point it at the test CA (workers inherit it).
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(certs.ca_file)
    yield certs
    if previous is None:
        os.environ.pop("SSL_CERT_FILE", None)
    else:
        os.environ["SSL_CERT_FILE"] = previous


@pytest.fixture
def smtpd(certificates: CertificateFiles) -> Iterator[RunningSmtpServer]:
    with smtp_server(certificates) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_domain_limits() -> Iterator[None]:
    # Workers cache domain limits for 30 s, and how fast each server answers;
    # each test starts from the database and measures afresh.
    forget_domain_limits()
    forget_speeds()
    yield
    forget_domain_limits()
    forget_speeds()


@pytest.fixture
def clean_redis() -> None:
    """An empty test Redis database: no stale broker messages or rate state."""
    assert_redis_is_disposable()
    redis_client().flushdb()


@pytest.fixture
def worker_logs(tmp_path: Path) -> Path:
    return tmp_path / "logs"
