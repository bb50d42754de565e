"""Subscriber pages show the real state: suppressed, unsubscribed, unconfirmed;
and staff confirm or re-ask for double opt-in subscriptions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bounces.models import BounceEvent, Suppression
from bounces.services import lift_suppression, suppress
from campaigns.models import Campaign
from postino import jobs
from subscribers import services
from subscribers.models import MailingList, Subscriber, Subscription
from tests.support.jobs import QueuedJobs


@pytest.fixture
def insiders(db: None) -> MailingList:
    return services.create_list(name="Insiders", optin=MailingList.OptIn.DOUBLE)


@pytest.fixture
def hard_bounced(newsletter: MailingList, campaign: Campaign) -> Suppression:
    services.create_subscriber(email="gone@example.com", lists=[newsletter])
    bounce = BounceEvent.objects.create(
        kind=BounceEvent.Kind.HARD,
        source=BounceEvent.Source.SMTP,
        email="gone@example.com",
        status="5.1.1",
        smtp_code=550,
        diagnostic="550 5.1.1 No such user",
    )
    return suppress(
        email="gone@example.com",
        reason=Suppression.Reason.HARD_BOUNCE,
        bounce=bounce,
        campaign=campaign,
    )


def state_cell(page: str, email: str) -> str:
    row = page.split(f">{email}</a>", 1)[1].split("</tr>", 1)[0]
    return row


def test_the_index_shows_each_subscribers_real_overall_state(
    teammate_client: Client,
    newsletter: MailingList,
    insiders: MailingList,
    hard_bounced: Suppression,
    django_assert_max_num_queries: Any,
) -> None:
    services.create_subscriber(email="ok@example.com", lists=[newsletter, insiders])
    services.create_subscriber(email="waiting@example.com", lists=[insiders])
    left = services.create_subscriber(email="left@example.com", lists=[newsletter, insiders])
    services.unsubscribe(subscriber_id=left.pk)
    blocked = services.create_subscriber(email="blocked@example.com", lists=[newsletter])
    Subscriber.objects.filter(pk=blocked.pk).update(status=Subscriber.Status.BLOCKLISTED)
    services.create_subscriber(email="lifted@example.com", lists=[newsletter])
    lift_suppression(
        suppression=suppress(email="lifted@example.com", reason=Suppression.Reason.COMPLAINT)
    )

    # Session, user, the menus' lists and segments, one query for the page
    # however many rows, and its count.
    with django_assert_max_num_queries(6):
        page = teammate_client.get(reverse("subscribers:index")).content.decode()

    assert "Active" in state_cell(page, "ok@example.com")
    assert "Unconfirmed" in state_cell(page, "waiting@example.com")
    assert "Unsubscribed from everything" in state_cell(page, "left@example.com")
    assert "Suppressed: hard bounce" in state_cell(page, "gone@example.com")
    assert "Blocklisted" in state_cell(page, "blocked@example.com")
    assert "Active" in state_cell(page, "lifted@example.com"), "a lifted suppression is over"


def test_the_index_costs_the_same_queries_for_one_or_many_subscribers(
    teammate_client: Client, newsletter: MailingList, django_assert_num_queries: Any
) -> None:
    services.create_subscriber(email="first@example.com", lists=[newsletter])
    teammate_client.get(reverse("subscribers:index"))  # warm the session
    with django_assert_num_queries(5) as one:
        teammate_client.get(reverse("subscribers:index"))
    for i in range(30):
        services.create_subscriber(email=f"more{i}@example.com", lists=[newsletter])
        suppress(email=f"more{i}@example.com", reason=Suppression.Reason.SOFT_BOUNCES)
    with django_assert_num_queries(len(one.captured_queries)):
        teammate_client.get(reverse("subscribers:index"))


def test_a_suppressed_subscriber_page_shows_the_cause_and_that_nothing_is_sent(
    teammate_client: Client, hard_bounced: Suppression, campaign: Campaign
) -> None:
    gone = Subscriber.objects.get(email="gone@example.com")

    page = teammate_client.get(reverse("subscribers:detail", args=[gone.pk])).content.decode()

    assert "Suppressed: hard bounce" in page
    assert reverse("bounces:detail", args=[hard_bounced.bounce_id]) in page
    assert reverse("campaigns:detail", args=[campaign.pk]) in page
    assert campaign.name in page
    assert "Nothing is sent to this address while the suppression lasts" in page
    assert reverse("bounces:suppressions") + "?q=gone%40example.com" in page
    assert "Enabled" not in page


def test_the_subscriber_page_shows_when_each_subscription_changed(
    teammate_client: Client, newsletter: MailingList, insiders: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[newsletter, insiders])
    Subscription.objects.filter(mailing_list=insiders).update(
        confirmation_sent_at=timezone.make_aware(datetime(2026, 3, 4, 5, 6))
    )
    services.unsubscribe(subscriber_id=bob.pk, list_ids=[newsletter.pk])

    page = teammate_client.get(reverse("subscribers:detail", args=[bob.pk])).content.decode()

    assert "Unconfirmed" in page
    assert "Confirmation sent 2026-03-04 05:06" in page
    assert "Unsubscribed " + timezone.localtime().strftime("%Y-%m-%d") in page
    assert "Resend confirmation" in page


def test_a_list_marks_its_suppressed_members(
    teammate_client: Client,
    newsletter: MailingList,
    hard_bounced: Suppression,
    django_assert_max_num_queries: Any,
) -> None:
    for i in range(5):
        services.create_subscriber(email=f"fine{i}@example.com", lists=[newsletter])
    with django_assert_max_num_queries(4):
        page = teammate_client.get(
            reverse("subscribers:list_detail", args=[newsletter.pk])
        ).content.decode()
    assert "Suppressed: hard bounce" in state_cell(page, "gone@example.com")
    assert "Suppressed" not in state_cell(page, "fine0@example.com")


# --- Staff actions on double opt-in subscriptions ----------------------------------------


def test_staff_confirm_a_subscription_and_it_records_who_vouched(
    teammate_client: Client, teammate: User, insiders: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[insiders])
    subscription = bob.subscriptions.get()

    response = teammate_client.post(
        reverse("subscribers:subscription_confirm", args=[bob.pk, subscription.pk]), follow=True
    )

    assert "Subscription to “Insiders” confirmed." in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.confirmed_via == Subscription.ConfirmedVia.STAFF
    assert subscription.confirmed_by == teammate


def test_staff_cannot_confirm_someone_back_onto_a_list_they_left(
    teammate_client: Client, insiders: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[insiders])
    subscription = bob.subscriptions.get()
    services.unsubscribe(subscriber_id=bob.pk)

    response = teammate_client.post(
        reverse("subscribers:subscription_confirm", args=[bob.pk, subscription.pk]), follow=True
    )

    assert "only they can subscribe again" in response.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED


def test_staff_resend_the_confirmation_email(
    teammate_client: Client,
    insiders: MailingList,
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[insiders])
    subscription = bob.subscriptions.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = teammate_client.post(
            reverse("subscribers:subscription_resend", args=[bob.pk, subscription.pk]),
            follow=True,
        )

    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [([subscription.pk],)]
    assert "Confirmation email for “Insiders” queued" in response.content.decode()

    services.confirm_by_staff(subscription=subscription, actor=None)  # type: ignore[arg-type]
    queued_jobs.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = teammate_client.post(
            reverse("subscribers:subscription_resend", args=[bob.pk, subscription.pk]),
            follow=True,
        )
    assert queued_jobs == []
    assert "not waiting for confirmation" in response.content.decode()


@pytest.mark.parametrize("action", ["subscription_confirm", "subscription_resend"])
def test_the_staff_actions_need_staff_a_post_and_a_real_subscription(
    client: Client,
    outsider_client: Client,
    teammate_client: Client,
    insiders: MailingList,
    action: str,
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[insiders])
    subscription = bob.subscriptions.get()
    url = reverse(f"subscribers:{action}", args=[bob.pk, subscription.pk])

    assert client.post(url).status_code == 302  # to the login page
    assert outsider_client.post(url).status_code in {302, 403}
    assert teammate_client.get(url).status_code == 405
    other = services.create_subscriber(email="other@example.com")
    wrong = reverse(f"subscribers:{action}", args=[other.pk, subscription.pk])
    assert teammate_client.post(wrong).status_code == 404
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNCONFIRMED
