"""The campaign page's one live poll: every figure, read at one moment, at a
bounded cost however much the campaign has done."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from campaigns.selectors import campaign_stats, one_snapshot
from delivery.models import Delivery
from subscribers.models import Subscriber
from tests.support.factories import make_campaign, make_list

# Session and user, the campaign (with its A/B test), ledger counts, the
# chart, failures, three bounce queries: what one poll costs, whatever the size
# of the campaign. (Outside a test's transaction, one_snapshot's SET
# TRANSACTION adds one.)
POLL_QUERIES = 9


def _ledger(campaign: Campaign, *, sent: int, failed: int, offset: int = 0) -> None:
    now = timezone.now()
    people = Subscriber.objects.bulk_create(
        Subscriber(email=f"p{offset + i}@d{i % 7}.example.com") for i in range(sent + failed)
    )
    rows = Delivery.objects.bulk_create(
        Delivery(
            campaign=campaign,
            subscriber=person,
            status="sent" if i < sent else "failed",
            sent_at=now if i < sent else None,
            smtp_code=None if i < sent else 550,
            smtp_reply="" if i < sent else "5.1.1 no such user",
        )
        for i, person in enumerate(people)
    )
    BounceEvent.objects.bulk_create(
        BounceEvent(
            kind="hard", source="smtp", email=row.subscriber.email, campaign=campaign,
            delivery=row, status="5.1.1", diagnostic="no such user",
        )
        for row in rows if row.status == "failed"
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 40])
def test_one_poll_carries_every_live_figure_at_a_bounded_cost(
    teammate_client: Client, django_assert_max_num_queries: Any, size: int
) -> None:
    campaign = make_campaign(lists=[make_list()], server=None)
    _ledger(campaign, sent=size * 5, failed=size)
    started = timezone.now()
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.RUNNING, started_at=started
    )

    with django_assert_max_num_queries(POLL_QUERIES):
        response = teammate_client.get(reverse("campaigns:stats", args=[campaign.pk]))

    payload = response.json()
    assert (payload["sent"], payload["failed"]) == (size * 5, size)
    assert payload["started_at"] == timezone.localtime(started).strftime("%Y-%m-%d %H:%M")
    assert payload["finished_at"] == ""
    html = payload["activity_html"]
    # The chart, the bounce card and the counts say the same number sent.
    assert f"{size * 5:,} messages in all" in html
    assert f'data-figure="sent">{size * 5:,}<' in html
    assert "No messages sent yet" not in html
    assert "no such user" in html  # the recent failures


@pytest.mark.django_db(transaction=True)
def test_reads_in_one_snapshot_do_not_see_a_write_committed_between_them() -> None:
    campaign = make_campaign(lists=[make_list()], server=None)
    _ledger(campaign, sent=3, failed=0)

    def another_worker_flushes() -> None:
        try:
            _ledger(campaign, sent=2, failed=0, offset=100)
        finally:
            connection.close()

    with one_snapshot():
        before = campaign_stats(campaign)["sent"]
        writer = threading.Thread(target=another_worker_flushes)
        writer.start()
        writer.join()
        during = campaign_stats(campaign)["sent"]
    after = campaign_stats(campaign)["sent"]

    assert (before, during, after) == (3, 3, 5)
