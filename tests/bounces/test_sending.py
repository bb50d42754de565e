"""Bounces while sending, and suppressed addresses at send time."""

from __future__ import annotations

from typing import Any

import pytest

from bounces.models import BounceEvent, Suppression
from bounces.services import suppress
from campaigns.models import Campaign
from campaigns.services import snapshot_audience
from delivery.models import Delivery
from delivery.pipeline.chunk import run_chunk
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer

pytest.importorskip("bounces.parser")
pytestmark = pytest.mark.django_db


def running(campaign: Campaign) -> Campaign:
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    return Campaign.objects.get(pk=campaign.pk)


def test_a_refusal_during_the_smtp_transaction_is_a_bounce_that_suppresses(
    smtpd: RunningSmtpServer, clean_redis: None, settings: Any
) -> None:
    unknown = "550 5.1.1 <reader1@example.org>: no such user"
    smtpd.handler.refuse_always["reader1@example.org"] = unknown
    smtpd.handler.refuse_always["reader2@example.org"] = "554 5.7.1 Message rejected as spam"
    news = make_list()
    add_audience(news, 3)
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))

    assert run_chunk(campaign.pk) == 1

    hard = BounceEvent.objects.get(email="reader1@example.org")
    assert (hard.kind, hard.source, hard.status, hard.smtp_code) == ("hard", "smtp", "5.1.1", 550)
    assert hard.delivery == Delivery.objects.get(subscriber__email="reader1@example.org")
    assert hard.campaign_id == campaign.pk
    policy = BounceEvent.objects.get(email="reader2@example.org")
    assert policy.kind == "soft", "a content or policy block is not the address's fault"
    assert list(Suppression.objects.values_list("email", "reason")) == [
        ("reader1@example.org", "hard_bounce")
    ]


def test_an_address_suppressed_after_the_snapshot_is_skipped_at_send_time(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    news = make_list()
    add_audience(news, 3)
    campaign = running(make_campaign(lists=[news], server=make_smtp_server(smtpd)))
    suppress(email="reader0@example.org", reason=Suppression.Reason.COMPLAINT)

    assert run_chunk(campaign.pk) == 2

    skipped = Delivery.objects.get(subscriber__email="reader0@example.org")
    assert (skipped.status, skipped.attempts, skipped.smtp_reply) == (
        "failed", 0, "suppressed: complaint"
    )  # fmt: skip
    assert "reader0@example.org" not in smtpd.handler.recipients()


def test_suppressed_addresses_are_left_out_of_the_audience() -> None:
    news = make_list()
    add_audience(news, 3)
    suppress(email="reader1@example.org", reason=Suppression.Reason.HARD_BOUNCE)
    lifted = suppress(email="reader2@example.org", reason=Suppression.Reason.MANUAL)
    from bounces.services import lift_suppression

    lift_suppression(suppression=lifted)
    campaign = make_campaign(lists=[news], server=None)

    assert snapshot_audience(campaign) == 2
    assert set(Delivery.objects.values_list("subscriber__email", flat=True)) == {
        "reader0@example.org",
        "reader2@example.org",
    }
