"""The chunk sender, run in-process against a real SMTP server on loopback."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import snapshot_audience
from delivery.models import Delivery
from delivery.pipeline import breaker
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.claim import claim_chunk, reclaim_expired_leases
from delivery.pipeline.direct import send_tests
from subscribers.models import MailingList
from tests.support.factories import add_audience, make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer, free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_settings(settings: Any) -> Any:
    settings.POSTINO = {
        **settings.POSTINO,
        "RETRY_BASE_SECONDS": 60.0,
        "MAX_ATTEMPTS": 3,
        "CHUNK_SIZE": 50,
    }
    return settings


def running_campaign(smtpd: RunningSmtpServer, count: int) -> tuple[Campaign, MailingList]:
    news = make_list()
    add_audience(news, count)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    snapshot_audience(campaign)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    campaign.refresh_from_db()
    return campaign, news


def statuses(campaign: Campaign) -> dict[str, int]:
    rows = Delivery.objects.filter(campaign=campaign).values_list("status", flat=True)
    result: dict[str, int] = {}
    for status in rows:
        result[status] = result.get(status, 0) + 1
    return result


def test_a_chunk_sends_its_rows_and_records_each_outcome(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 5)
    smtpd.handler.refuse_always["reader1@example.org"] = "550 5.1.1 Unknown user"
    smtpd.handler.refuse_always["reader2@example.org"] = "451 4.3.0 Try later"

    assert run_chunk(campaign.pk) == 3

    assert statuses(campaign) == {"sent": 3, "failed": 1, "pending": 1}
    failed = Delivery.objects.get(subscriber__email="reader1@example.org")
    assert (failed.smtp_code, failed.attempts) == (550, 1)
    deferred = Delivery.objects.get(subscriber__email="reader2@example.org")
    assert deferred.attempts == 1
    assert deferred.next_attempt_at is not None
    assert deferred.next_attempt_at > timezone.now() + timedelta(seconds=40)
    assert deferred.claim_token is None
    sent = Delivery.objects.filter(status="sent").first()
    assert sent is not None and sent.message_id.startswith("<") and sent.sent_at


def test_a_deferred_row_is_not_retried_before_its_time(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 1)
    smtpd.handler.refuse_times["reader0@example.org"] = (1, "451 4.7.1 Greylisted")
    run_chunk(campaign.pk)
    assert run_chunk(campaign.pk) == 0
    Delivery.objects.update(next_attempt_at=timezone.now())
    assert run_chunk(campaign.pk) == 1
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("sent", 2)


def test_transient_failures_give_up_after_the_maximum_attempts(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 1)
    smtpd.handler.refuse_always["reader0@example.org"] = "452 4.2.2 Mailbox full"
    for _ in range(3):
        Delivery.objects.update(next_attempt_at=None)
        run_chunk(campaign.pk)
    row = Delivery.objects.get()
    assert (row.status, row.attempts, row.smtp_code) == ("failed", 3, 452)
    assert "gave up after 3 attempts" in row.smtp_reply


def test_the_campaign_finishes_when_every_row_is_terminal(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 3)
    run_chunk(campaign.pk)
    run_chunk(campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FINISHED
    assert campaign.finished_at is not None


def test_claims_never_overlap(smtpd: RunningSmtpServer, fast_settings: Any) -> None:
    campaign, _ = running_campaign(smtpd, 120)
    first = claim_chunk(campaign.pk, 50)
    second = claim_chunk(campaign.pk, 50)
    third = claim_chunk(campaign.pk, 50)
    counts = [Delivery.objects.filter(claim_token=t).count() for t in (first, second, third)]
    assert counts == [50, 50, 20]
    assert claim_chunk(campaign.pk, 50) is None
    # Keyset order: each claim takes the lowest ids still pending.
    first_ids = set(Delivery.objects.filter(claim_token=first).values_list("id", flat=True))
    second_ids = set(Delivery.objects.filter(claim_token=second).values_list("id", flat=True))
    assert max(first_ids) < min(second_ids)


def test_rows_of_a_dead_worker_return_to_pending_after_their_lease(
    smtpd: RunningSmtpServer, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 10)
    token = claim_chunk(campaign.pk, 10)
    assert reclaim_expired_leases() == 0
    Delivery.objects.filter(claim_token=token).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )
    assert reclaim_expired_leases() == 10
    assert statuses(campaign) == {"pending": 10}


def test_a_paused_campaign_sends_nothing(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 5)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.PAUSED)
    assert run_chunk(campaign.pk) == 0
    assert statuses(campaign) == {"pending": 5}
    assert smtpd.handler.messages == []


def test_an_unreachable_server_defers_the_whole_chunk(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 4)
    assert campaign.smtp_server is not None
    campaign.smtp_server.port = free_port()
    campaign.smtp_server.save()
    assert run_chunk(campaign.pk) == 0
    rows = list(Delivery.objects.order_by("id"))
    # A server problem is not the recipients' fault: no attempt is counted.
    assert all(r.status == "pending" and r.next_attempt_at and r.attempts == 0 for r in rows)
    assert breaker.server_unavailable_for(campaign.smtp_server.pk) > 0
    assert "TCP" in breaker.server_down_reason(campaign.smtp_server.pk)


def test_a_chunk_costs_the_same_queries_for_five_or_forty_recipients(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    """Outcomes are written in batches: no query per message."""
    server = make_smtp_server(smtpd)

    def campaign_of(size: int) -> Campaign:
        mailing_list = make_list(f"List {size}")
        add_audience(mailing_list, size, prefix=f"s{size}-")
        campaign = make_campaign(lists=[mailing_list], server=server, name=f"C{size}")
        snapshot_audience(campaign)
        Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
        return campaign

    run_chunk(campaign_of(1).pk)  # warm the per-process caches
    counts = []
    for size in (5, 40):
        campaign = campaign_of(size)
        with CaptureQueriesContext(connection) as queries:
            assert run_chunk(campaign.pk) == size
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_test_sends_are_marked_and_not_recorded(
    smtpd: RunningSmtpServer, clean_redis: None, fast_settings: Any
) -> None:
    campaign, _ = running_campaign(smtpd, 1)
    delivered = send_tests(campaign.pk, ["reader0@example.org", "boss@example.com"])
    assert delivered == ["reader0@example.org", "boss@example.com"]
    subjects = {m.rcpt_tos[0]: m.parsed()["Subject"] for m in smtpd.handler.messages}
    assert subjects == {
        "reader0@example.org": "[Test] News for Reader reader 0",
        "boss@example.com": "[Test] News for Sample Subscriber",
    }
    assert statuses(campaign) == {"pending": 1}
