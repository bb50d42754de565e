"""A campaign to 2,000 subscribers through a real STARTTLS+AUTH SMTP server,
sent by real Celery worker processes."""

from __future__ import annotations

import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from campaigns.models import Campaign
from campaigns.services import start_campaign
from delivery import verp
from delivery.models import Delivery, DomainOutcome
from subscribers.models import Subscriber, Subscription
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import running_workers

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def body_of(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def wait_for_status(campaign: Campaign, statuses: set[str], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status in statuses:
            return
        time.sleep(0.25)
    counts = {s: Delivery.objects.filter(status=s).count() for s in Delivery.Status.values}
    raise AssertionError(f"campaign still {campaign.status} after {timeout}s: {counts}")


def test_every_subscriber_gets_exactly_one_personalised_message(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    newsletter = make_list("Newsletter")
    offers = make_list("Offers")
    audience = add_audience(newsletter, 2000)
    # 100 of them are on both lists: they must still get one message.
    for subscriber in audience[:100]:
        Subscription.objects.create(
            subscriber=subscriber, mailing_list=offers, status=Subscription.Status.CONFIRMED
        )
    # Not recipients: unconfirmed, unsubscribed, blocklisted.
    add_audience(newsletter, 3, prefix="pending", status=Subscription.Status.UNCONFIRMED)
    add_audience(newsletter, 3, prefix="gone", status=Subscription.Status.UNSUBSCRIBED)
    Subscriber.objects.filter(email="reader1999@example.org").update(status="blocklisted")

    smtpd.handler.refuse_always["reader7@example.org"] = "550 5.1.1 No such user here"
    smtpd.handler.refuse_times["reader8@example.org"] = (1, "451 4.7.1 Greylisted, try later")
    campaign = make_campaign(lists=[newsletter, offers], server=make_smtp_server(smtpd))

    with running_workers(worker_logs):
        start_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED})

    expected = {f"reader{i}@example.org" for i in range(1999)} - {"reader7@example.org"}
    received = smtpd.handler.recipients()
    assert set(received) == expected
    assert max(received.values()) == 1, "someone received the campaign twice"

    failed = Delivery.objects.get(campaign=campaign, subscriber__email="reader7@example.org")
    assert failed.status == Delivery.Status.FAILED
    assert failed.smtp_code == 550
    assert "No such user" in failed.smtp_reply
    retried = Delivery.objects.get(campaign=campaign, subscriber__email="reader8@example.org")
    assert retried.status == Delivery.Status.SENT
    assert retried.attempts == 2

    assert Delivery.objects.filter(campaign=campaign).count() == 1999
    assert Delivery.objects.filter(campaign=campaign, status=Delivery.Status.SENT).count() == 1998
    # Each batch's outcomes were tallied by domain as they were written, by
    # both workers at once: the tally agrees with the ledger.
    tally = DomainOutcome.objects.get(campaign=campaign)
    assert (tally.domain, tally.sent, tally.failed) == ("example.org", 1998, 1)

    by_recipient = {m.rcpt_tos[0]: m for m in smtpd.handler.messages}
    message_ids = set()
    for index in (0, 8, 42, 1998):
        address = f"reader{index}@example.org"
        received_message = by_recipient[address]
        parsed = received_message.parsed()
        assert parsed["Subject"] == f"News for Reader reader {index}"
        (to,) = parsed["To"].addresses
        assert (to.display_name, to.addr_spec) == (f"Reader reader {index}", address)
        html, text = body_of(parsed, "html"), body_of(parsed, "plain")
        assert f"Hello Reader reader {index}" in html
        assert f"Your city: City-{index}." in text
        unsubscribe = parsed["List-Unsubscribe"]
        assert unsubscribe.startswith("<https://postino.example.com/s/one-click/")
        assert "<mailto:unsubscribe+" in unsubscribe
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        message_ids.add(parsed["Message-ID"])
        delivery = Delivery.objects.get(campaign=campaign, subscriber__email=address)
        assert verp.parse_envelope_recipient(received_message.mail_from) == delivery.pk
        assert delivery.message_id == parsed["Message-ID"]
    assert len(message_ids) == 4
    assert smtpd.handler.authenticated_sessions >= 1
