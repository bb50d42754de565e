"""Fixtures for DKIM tests: sending domains, and a DNS that serves their records."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from delivery import domains
from delivery.dkim import DkimKey
from delivery.models import SendingDomain

DnsFunc = Callable[..., bytes | None]


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    # The key cache outlives a test's transaction; never let it leak keys.
    domains.clear_key_cache()
    yield
    domains.clear_key_cache()


def serve_dns(*sending_domains: SendingDomain) -> DnsFunc:
    """A dkimpy ``dnsfunc`` answering TXT queries with our published records."""
    zone = {
        f"{record.name}.".encode(): record.value.encode()
        for sending_domain in sending_domains
        for record in domains.dns_records(sending_domain)
        if record.type == "TXT"
    }

    def dnsfunc(name: bytes, timeout: int = 5) -> bytes | None:
        return zone.get(name)

    return dnsfunc


@pytest.fixture
def both_keys(db: None) -> SendingDomain:
    return domains.create_sending_domain(
        domain="news.example.com", selector="postino", generate_rsa=True, generate_ed25519=True
    )


@pytest.fixture
def rsa_only(db: None) -> SendingDomain:
    return domains.create_sending_domain(
        domain="rsa.example.com", selector="s1", generate_rsa=True, generate_ed25519=False
    )


@pytest.fixture
def ed25519_only(db: None) -> SendingDomain:
    return domains.create_sending_domain(
        domain="ed.example.com", selector="s2", generate_rsa=False, generate_ed25519=True
    )


def keys_of(sending_domain: SendingDomain) -> list[DkimKey]:
    return domains.load_keys(sending_domain)
