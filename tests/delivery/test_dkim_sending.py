"""Mail sent through the real pipeline carries DKIM signatures that verify."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dkim as dkimpy
import pytest

from campaigns.models import Campaign
from campaigns.services import snapshot_audience
from delivery import domains
from delivery.models import SendingDomain
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.direct import send_tests
from tests.dkim.conftest import serve_dns
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    domains.clear_key_cache()
    yield
    domains.clear_key_cache()


@pytest.fixture
def sending_domain(db: None) -> SendingDomain:
    # make_campaign sends from news@postino.example.com.
    return domains.create_sending_domain(domain="postino.example.com", selector="pst")


def running_campaign(smtpd: RunningSmtpServer, count: int) -> Campaign:
    news = make_list()
    add_audience(news, count)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    return campaign


def signature_results(data: bytes, sending_domain: SendingDomain) -> list[bool]:
    checker = dkimpy.DKIM(data)
    dnsfunc = serve_dns(sending_domain)
    return [
        bool(checker.verify(idx=i, dnsfunc=dnsfunc)) for i in range(data.count(b"DKIM-Signature:"))
    ]


def test_campaign_mail_is_signed_with_both_keys_and_verifies(
    smtpd: RunningSmtpServer, clean_redis: None, sending_domain: SendingDomain, settings: Any
) -> None:
    campaign = running_campaign(smtpd, 3)

    assert run_chunk(campaign.pk) == 3

    assert len(smtpd.handler.messages) == 3
    for received in smtpd.handler.messages:
        assert signature_results(received.data, sending_domain) == [True, True]
        assert dkimpy.verify(received.data, dnsfunc=serve_dns(sending_domain))
        assert received.parsed()["DKIM-Signature"] is not None


def test_test_sends_are_signed_too(
    smtpd: RunningSmtpServer, clean_redis: None, sending_domain: SendingDomain
) -> None:
    campaign = running_campaign(smtpd, 1)
    assert send_tests(campaign.pk, ["boss@example.com"]) == ["boss@example.com"]
    (received,) = smtpd.handler.messages
    assert signature_results(received.data, sending_domain) == [True, True]


def test_mail_from_a_domain_without_keys_is_not_signed(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    campaign = running_campaign(smtpd, 1)
    run_chunk(campaign.pk)
    (received,) = smtpd.handler.messages
    assert b"DKIM-Signature:" not in received.data
