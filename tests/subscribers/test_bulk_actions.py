"""Browsing a large audience (filters, counts) and bulk actions on a whole
filtered selection, run in batches that resume after a crash."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from postino import jobs
from subscribers import browse, bulk
from subscribers.blocklist.services import add_entries
from subscribers.browse import SubscriberFilter
from subscribers.models import BulkAction, ConsentEvent, MailingList, Subscriber, Subscription
from subscribers.segments.services import create_segment
from tests.support.jobs import QueuedJobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    news = MailingList.objects.create(name="News")
    promo = MailingList.objects.create(name="Promo", optin="double")
    found = []
    for i in range(12):
        person = Subscriber.objects.create(
            email=f"{'ann' if i < 4 else 'bob'}{i}@example.com", attributes={"n": i}
        )
        found.append(person)
        if i % 2 == 0:
            status = "unsubscribed" if i == 6 else "confirmed"
            Subscription.objects.create(subscriber=person, mailing_list=news, status=status)
    Subscriber.objects.filter(pk=found[11].pk).update(status="blocklisted")
    return {"news": news, "promo": promo, "people": found}


def emails(filters: SubscriberFilter) -> list[str]:
    return list(browse.filtered_subscribers(filters).values_list("email", flat=True))


def test_filters_combine_on_prefix_list_status_and_segment(people: dict[str, Any]) -> None:
    news = people["news"]
    assert emails(SubscriberFilter(query="ANN")) == [f"ann{i}@example.com" for i in range(4)]
    assert emails(SubscriberFilter(list_id=news.pk, status="confirmed")) == [
        "ann0@example.com",
        "ann2@example.com",
        "bob4@example.com",
        "bob8@example.com",
        "bob10@example.com",
    ]
    assert emails(SubscriberFilter(status="unsubscribed")) == ["bob6@example.com"]
    assert emails(SubscriberFilter(status="blocklisted")) == ["bob11@example.com"]
    segment = create_segment(
        name="Big n", definition={"conditions": [{"field": "attributes.n", "op": "gt", "value": 8}]}
    )
    assert emails(SubscriberFilter(segment_id=segment.pk, query="bob1")) == [
        "bob10@example.com",
        "bob11@example.com",
    ]


def test_counts_are_exact_when_small_and_estimated_when_large(
    people: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = browse.filtered_subscribers(SubscriberFilter())
    assert browse.count_matches(everyone) == browse.MatchCount(12, True)
    monkeypatch.setattr(browse, "EXACT_COUNT_LIMIT", 5)
    estimate = browse.count_matches(everyone)
    assert not estimate.exact
    assert estimate.value >= 6  # at least what was counted on the way


def test_adding_to_a_list_respects_unsubscribes_blocks_and_double_opt_in(
    people: dict[str, Any],
    owner: User,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
    settings: Any,
) -> None:
    settings.POSTINO = {**settings.POSTINO, "BULK_BATCH_SIZE": 5}
    add_entries(lines=["bob9@example.com"])
    promo = people["promo"]
    with django_capture_on_commit_callbacks(execute=True):
        action = bulk.start(kind="add", filters=SubscriberFilter(), mailing_list=promo, actor=owner)
    assert queued_jobs.of(jobs.RUN_BULK_ACTION) == [(action.pk,)]
    with django_capture_on_commit_callbacks(execute=True):
        bulk.run(action.pk)
    action.refresh_from_db()
    # 12 people: bob11 blocklisted, bob9 on the blocklist; the rest join, unconfirmed.
    assert (action.status, action.done, action.changed, action.skipped) == ("finished", 12, 10, 2)
    assert Subscription.objects.filter(mailing_list=promo, status="unconfirmed").count() == 10
    assert sum(len(batch) for (batch,) in queued_jobs.of(jobs.SEND_CONFIRMATIONS)) == 10
    events = ConsentEvent.objects.filter(mailing_list=promo, kind="subscribed")
    assert events.count() == 10
    assert set(events.values_list("via", "actor_name", "note")) == {
        ("admin", owner.get_username(), f"Bulk action #{action.pk}")
    }

    news = people["news"]
    with django_capture_on_commit_callbacks(execute=True):
        again = bulk.start(
            kind="add", filters=SubscriberFilter(query="bob6"), mailing_list=news, actor=owner
        )
    bulk.run(again.pk)
    assert Subscription.objects.get(
        subscriber__email="bob6@example.com", mailing_list=news
    ).status == ("unsubscribed")  # never resubscribed by staff


def test_unsubscribe_blocklist_and_delete_in_bulk(people: dict[str, Any], owner: User) -> None:
    news = people["news"]
    remove = bulk.start(
        kind="remove", filters=SubscriberFilter(query="ann"), mailing_list=news, actor=owner
    )
    bulk.run(remove.pk)
    assert set(
        Subscription.objects.filter(subscriber__email__startswith="ann").values_list(
            "status", flat=True
        )
    ) == {"unsubscribed"}
    block = bulk.start(
        kind="blocklist", filters=SubscriberFilter(query="bob1"), mailing_list=None, actor=owner
    )
    bulk.run(block.pk)
    block.refresh_from_db()
    assert (block.changed, block.skipped) == (1, 1)  # bob10 now; bob11 was already
    delete = bulk.start(
        kind="delete",
        filters=SubscriberFilter(status="blocklisted"),
        mailing_list=None,
        actor=owner,
    )
    bulk.run(delete.pk)
    assert not Subscriber.objects.filter(status="blocklisted").exists()
    with pytest.raises(ValidationError, match=r"Choose the list\."):
        bulk.start(kind="add", filters=SubscriberFilter(), mailing_list=None, actor=owner)


def test_a_run_that_died_mid_way_resumes_after_its_last_batch(
    people: dict[str, Any],
    owner: User,
    settings: Any,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.POSTINO = {**settings.POSTINO, "BULK_BATCH_SIZE": 4}
    action = bulk.start(
        kind="blocklist", filters=SubscriberFilter(), mailing_list=None, actor=owner
    )
    # A first run committed one batch, then its worker died.
    first_four = [p.pk for p in people["people"][:4]]
    Subscriber.objects.filter(pk__in=first_four).update(status="blocklisted")
    BulkAction.objects.filter(pk=action.pk).update(
        status="running",
        owner="dead",
        last_id=first_four[-1],
        done=4,
        changed=4,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert bulk.resume_stalled() == [action.pk]
    assert queued_jobs.of(jobs.RUN_BULK_ACTION)[-1] == (action.pk,)
    bulk.run(action.pk)
    action.refresh_from_db()
    assert (action.status, action.done, action.changed, action.skipped) == ("finished", 12, 11, 1)
    # The ledger names each person changed by this run once; the first four were the dead run's.
    assert ConsentEvent.objects.filter(kind="blocklisted").count() == 7


def test_the_page_filters_counts_and_starts_a_bulk_action(
    teammate_client: Client,
    people: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    news = people["news"]
    page = teammate_client.get(
        reverse("subscribers:index"), {"list": news.pk, "status": "confirmed"}
    )
    assert "5 subscribers match" in page.text
    refused = teammate_client.post(
        reverse("subscribers:bulk_start"), {"kind": "delete"}, follow=True
    )
    assert "Tick the box to confirm" in refused.text
    with django_capture_on_commit_callbacks(execute=True):
        response = teammate_client.post(
            reverse("subscribers:bulk_start"),
            {
                "kind": "remove",
                "mailing_list": news.pk,
                "confirm": "on",
                "list": news.pk,
                "status": "confirmed",
            },
        )
    action = BulkAction.objects.get()
    assert response["Location"] == reverse("subscribers:bulk_detail", args=[action.pk])
    bulk.run(action.pk)
    live = teammate_client.get(reverse("subscribers:bulk_progress", args=[action.pk])).text
    assert "data-live-done" in live
    assert 'id="bulk-changed">5<' in live
