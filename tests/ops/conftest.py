"""A small world for the operations view: campaigns, servers, ledger rows and
Redis state, built directly with the ORM and Redis commands."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from delivery import domains
from delivery.models import Delivery, DomainLimit, SmtpServer
from postino.redis import redis_client
from subscribers.models import Subscriber
from tests.dkim.test_domains import FakeResolver
from tests.support.redis import assert_redis_is_disposable


@pytest.fixture(autouse=True)
def ops_redis() -> Iterator[Any]:
    """This suite's own Redis database, empty before and after each test."""
    redis_client.cache_clear()
    assert_redis_is_disposable()
    client = redis_client()
    client.flushdb()
    yield client
    client.flushdb()
    redis_client.cache_clear()


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    # The suite's BASE_URL is https; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeResolver]:
    """DNS is outside the machine: the compliance panel's lookups go to a fake
    that knows nothing until a test publishes records in it. DKIM keys are
    cached per process, so each test starts without them."""
    resolver = FakeResolver()
    monkeypatch.setattr(domains, "default_resolver", lambda: resolver)
    domains.clear_key_cache()
    yield resolver
    domains.clear_key_cache()


def make_campaign(
    name: str = "Spring news", status: str = Campaign.Status.RUNNING, **fields: Any
) -> Campaign:
    return Campaign.objects.create(
        name=name,
        subject="Hello",
        from_email="news@example.com",
        html="<p>Hi</p>",
        status=status,
        started_at=timezone.now() - timedelta(hours=1),
        **fields,
    )


def make_server(name: str = "Relay", **fields: Any) -> SmtpServer:
    return SmtpServer.objects.create(name=name, host="smtp.example.com", port=587, **fields)


@dataclass
class Ledger:
    """Adds ledger rows for fresh subscribers of a domain."""

    counter: int = 0

    def add(
        self,
        campaign: Campaign,
        count: int,
        *,
        status: str = Delivery.Status.PENDING,
        domain: str = "example.org",
        sent_at: datetime | None = None,
        server: SmtpServer | None = None,
        next_attempt_at: datetime | None = None,
        code: int | None = None,
        reply: str = "",
    ) -> list[Delivery]:
        subscribers = Subscriber.objects.bulk_create(
            [Subscriber(email=f"r{self.counter + i}@{domain}") for i in range(count)]
        )
        self.counter += count
        return Delivery.objects.bulk_create(
            [
                Delivery(
                    campaign=campaign,
                    subscriber=subscriber,
                    status=status,
                    sent_at=sent_at,
                    smtp_server=server,
                    next_attempt_at=next_attempt_at,
                    smtp_code=code,
                    smtp_reply=reply,
                    attempts=1 if code else 0,
                )
                for subscriber in subscribers
            ]
        )


@pytest.fixture
def ledger(db: None) -> Ledger:
    return Ledger()


@pytest.fixture
def no_domain_limits(db: None) -> None:
    """Remove the default limits a migration installs (gmail.com, …)."""
    DomainLimit.objects.all().delete()
