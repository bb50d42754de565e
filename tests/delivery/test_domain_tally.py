"""The ledger's tally of final outcomes by recipient domain, written with each
batch of outcomes: what a campaign report's domain table reads."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery, DomainOutcome
from delivery.pipeline import record
from subscribers.models import Subscriber
from tests.support.factories import make_campaign, make_list

pytestmark = pytest.mark.django_db


def claimed(campaign: Campaign, email: str, claim: uuid.UUID) -> Delivery:
    subscriber = Subscriber.objects.create(email=email)
    return Delivery.objects.create(
        campaign=campaign, subscriber=subscriber, status=Delivery.Status.CLAIMED, claim_token=claim
    )


def tally(campaign: Campaign) -> dict[str, tuple[int, int]]:
    return {
        row.domain: (row.sent, row.failed)
        for row in DomainOutcome.objects.filter(campaign=campaign)
    }


def test_only_final_outcomes_of_rows_the_claim_still_holds_are_tallied() -> None:
    campaign = make_campaign(lists=[make_list()], server=None)
    claim, other = uuid.uuid4(), uuid.uuid4()
    now = timezone.now()
    sent = [claimed(campaign, f"a{n}@gmail.com", claim) for n in range(3)]
    refused = claimed(campaign, "gone@web.de", claim)
    deferred = claimed(campaign, "later@web.de", claim)
    taken_over = claimed(campaign, "elsewhere@gmail.com", other)
    sent_status, failed_status = Delivery.Status.SENT, Delivery.Status.FAILED
    outcomes = [
        *[record.RowOutcome(row.pk, sent_status, 1, 250, "ok", sent_at=now) for row in sent],
        record.RowOutcome(refused.pk, failed_status, 1, 550, "5.1.1 unknown"),
        record.RowOutcome(
            deferred.pk, Delivery.Status.PENDING, 1, 451, "later",
            next_attempt_at=now + timedelta(minutes=5),
        ),
        # Another chunk holds this row now: the write and the tally skip it.
        record.RowOutcome(taken_over.pk, sent_status, 1, 250, "ok", sent_at=now),
    ]  # fmt: skip

    record.apply_outcomes(claim, outcomes)

    assert tally(campaign) == {"gmail.com": (3, 0), "web.de": (0, 1)}
    taken_over.refresh_from_db()
    assert taken_over.status == Delivery.Status.CLAIMED

    # The deferred row, sent on its retry under a new claim, adds to the same row.
    Delivery.objects.filter(pk=deferred.pk).update(
        status=Delivery.Status.CLAIMED, claim_token=other
    )
    record.apply_outcomes(
        other,
        [
            record.RowOutcome(deferred.pk, sent_status, 2, 250, "ok", sent_at=now),
            record.RowOutcome(taken_over.pk, sent_status, 1, 250, "ok", sent_at=now),
        ],
    )
    assert tally(campaign) == {"gmail.com": (4, 0), "web.de": (1, 1)}
    # Written again (a replayed journal): rows no longer held are not counted twice.
    record.apply_outcomes(
        other, [record.RowOutcome(deferred.pk, sent_status, 2, 250, "ok", sent_at=now)]
    )
    assert tally(campaign) == {"gmail.com": (4, 0), "web.de": (1, 1)}
