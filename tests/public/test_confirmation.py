"""Double opt-in: the confirmation email, its link, and the confirm page."""

from __future__ import annotations

import re
import time
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from api.services import create_token
from bounces.models import Suppression
from postino import jobs
from subscribers import confirmation, services
from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.tokens import Purpose, make_confirm_token, make_token
from tests.api.client import ApiClient
from tests.public.helpers import ORIGIN
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer
from tests.support.workers import start_worker


@pytest.fixture
def weekly(db: None) -> MailingList:
    return services.create_list(name="Weekly digest", optin=MailingList.OptIn.DOUBLE)


def body_of(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def confirm_path(subscription: Subscription) -> str:
    return reverse("public:confirm", args=[make_confirm_token(subscription.pk)])


def post_form(browser: Client, url: str, data: dict[str, str] | None = None) -> Any:
    """GET the page, then POST its form with the CSRF token, as a browser does."""
    page = browser.get(url, secure=True).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf, "the page has a CSRF-protected form"
    return browser.post(
        url, {"csrfmiddlewaretoken": csrf.group(1), **(data or {})}, secure=True, headers=ORIGIN
    )


# --- Who gets asked, and when ------------------------------------------------------


def test_joining_a_double_opt_in_list_queues_one_confirmation_after_commit(
    weekly: MailingList, django_capture_on_commit_callbacks: Any, queued_jobs: QueuedJobs
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
        assert queued_jobs == [], "nothing is queued before the transaction commits"
    for callback in callbacks:
        callback()
    subscription = bob.subscriptions.get()
    assert subscription.status == Subscription.Status.UNCONFIRMED
    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [([subscription.pk],)]


def test_the_staff_form_and_the_api_both_ask_for_confirmation(
    weekly: MailingList,
    owner: User,
    django_capture_on_commit_callbacks: Any,
    queued_jobs: QueuedJobs,
) -> None:
    staff = Client()
    staff.force_login(owner)
    api = ApiClient(create_token(user=owner))

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("subscribers:create"),
            {"email": "ui@example.com", "lists": [weekly.pk]},
            secure=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            api.post("/subscribers", {"email": "api@example.com", "lists": [weekly.pk]}).status_code
            == 201
        )

    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [
        ([Subscription.objects.get(subscriber__email="ui@example.com").pk],),
        ([Subscription.objects.get(subscriber__email="api@example.com").pk],),
    ]


def test_single_opt_in_and_preconfirmed_subscribers_are_not_asked(
    weekly: MailingList, django_capture_on_commit_callbacks: Any
) -> None:
    monthly = services.create_list(name="Monthly")
    with django_capture_on_commit_callbacks() as callbacks:
        services.create_subscriber(email="a@example.com", lists=[monthly])
        services.create_subscriber(email="b@example.com", lists=[weekly], preconfirm=True)
    assert callbacks == []
    assert set(Subscription.objects.values_list("status", "confirmed_via")) == {
        (Subscription.Status.CONFIRMED, Subscription.ConfirmedVia.SINGLE),
        (Subscription.Status.CONFIRMED, Subscription.ConfirmedVia.CALLER),
    }


def test_a_bulk_add_is_batched_not_one_task_per_recipient(
    weekly: MailingList,
    django_capture_on_commit_callbacks: Any,
    monkeypatch: Any,
    queued_jobs: QueuedJobs,
) -> None:
    monkeypatch.setattr(services, "CONFIRMATION_BATCH_SIZE", 3)
    people = [Subscriber.objects.create(email=f"p{i}@example.com") for i in range(7)]
    rows = [Subscription.objects.create(subscriber=p, mailing_list=weekly).pk for p in people]
    with django_capture_on_commit_callbacks(execute=True):
        services.request_confirmation(subscription_ids=rows)
    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [(rows[0:3],), (rows[3:6],), (rows[6:7],)]


# --- The email ----------------------------------------------------------------------


def test_the_confirmation_email_reaches_the_subscriber_with_a_working_link(
    weekly: MailingList, smtpd: RunningSmtpServer, clean_redis: None, settings: Any
) -> None:
    settings.DEFAULT_FROM_EMAIL = "Weekly Team <hello@postino.example.com>"
    make_smtp_server(smtpd)
    bob = services.create_subscriber(email="bob@example.com", name="Bob", lists=[weekly])
    subscription = bob.subscriptions.get()

    run = confirmation.send_confirmations([subscription.pk])

    assert run.sent == [subscription.pk]
    [received] = smtpd.handler.messages
    assert received.rcpt_tos == ("bob@example.com",)
    assert received.mail_from == "bounces@" + settings.POSTINO["BOUNCE_DOMAIN"]
    message = received.parsed()
    assert message["Subject"] == "Confirm your subscription to Weekly digest"
    assert message["From"] == "Weekly Team <hello@postino.example.com>"
    assert "List-Unsubscribe" not in message, "not on the list yet: nothing to leave"
    link = confirmation.confirm_url(subscription.pk)
    assert link in body_of(message, "plain")
    assert f'href="{link}"' in body_of(message, "html")
    assert "Weekly digest" in body_of(message, "html")
    subscription.refresh_from_db()
    assert subscription.confirmation_sent_at is not None
    assert subscription.status == Subscription.Status.UNCONFIRMED


def test_nobody_is_asked_twice_or_while_suppressed(
    weekly: MailingList, smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    make_smtp_server(smtpd)
    done = services.create_subscriber(email="done@example.com", lists=[weekly])
    bounced = services.create_subscriber(email="bounced@example.com", lists=[weekly])
    Suppression.objects.create(email="bounced@example.com", reason=Suppression.Reason.HARD_BOUNCE)
    confirmed = done.subscriptions.get()
    services.confirm_subscription(subscription=confirmed, via=Subscription.ConfirmedVia.LINK)

    run = confirmation.send_confirmations([confirmed.pk, bounced.subscriptions.get().pk, 999999])

    assert run.sent == []
    assert smtpd.handler.messages == []
    assert len(run.skipped) == 3


def test_a_server_that_is_down_leaves_the_batch_for_a_retry(
    weekly: MailingList, smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    server = make_smtp_server(smtpd)
    server.port = 1  # nothing listens there
    server.save(update_fields=["port"])
    bob = services.create_subscriber(email="bob@example.com", lists=[weekly])

    run = confirmation.send_confirmations([bob.subscriptions.get().pk])

    assert run.retry == [bob.subscriptions.get().pk]
    assert bob.subscriptions.get().confirmation_sent_at is None


def test_a_named_confirmation_server_is_used_instead_of_the_oldest(
    weekly: MailingList, smtpd: RunningSmtpServer, settings: Any
) -> None:
    make_smtp_server(smtpd, name="Campaigns")
    chosen = make_smtp_server(smtpd, name="Transactional")
    settings.POSTINO = {**settings.POSTINO, "CONFIRMATION_SMTP_SERVER": "Transactional"}
    assert confirmation.confirmation_server() == chosen
    settings.POSTINO = {**settings.POSTINO, "CONFIRMATION_SMTP_SERVER": ""}
    assert confirmation.confirmation_server() is not None
    assert confirmation.confirmation_server() != chosen


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_confirmation_after_the_subscriber_is_added(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    weekly = services.create_list(name="Weekly digest", optin=MailingList.OptIn.DOUBLE)
    make_smtp_server(smtpd)
    worker = start_worker(worker_logs, concurrency=1)
    try:
        bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
        deadline = time.monotonic() + 60
        while not smtpd.handler.messages and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        worker.stop()
    assert [m.rcpt_tos for m in smtpd.handler.messages] == [("bob@example.com",)]
    subscription = bob.subscriptions.get()
    assert confirmation.confirm_url(subscription.pk) in smtpd.handler.messages[0].data.decode()


# --- The confirm page ---------------------------------------------------------------


def test_opening_the_link_asks_and_changes_nothing(browser: Client, weekly: MailingList) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
    subscription = bob.subscriptions.get()

    response = browser.get(confirm_path(subscription), secure=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Weekly digest" in page and "bob@example.com" in page
    assert "Yes, subscribe me" in page
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNCONFIRMED


def test_pressing_confirm_records_the_consent_and_twice_is_harmless(
    browser: Client, weekly: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
    subscription = bob.subscriptions.get()

    response = post_form(browser, confirm_path(subscription))

    assert response.status_code == 200
    page = response.content.decode()
    assert "You're subscribed" in page
    preferences = make_token(Purpose.PREFERENCES, subscriber_id=bob.pk)
    assert reverse("public:preferences", args=[preferences]) in page
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.confirmed_via == Subscription.ConfirmedVia.LINK
    assert subscription.confirmed_ip == "127.0.0.1"
    first = subscription.confirmed_at
    assert first is not None

    # The page left open in a second tab, pressed again.
    token = browser.cookies["csrftoken"].value
    again = browser.post(
        confirm_path(subscription), {"csrfmiddlewaretoken": token}, secure=True, headers=ORIGIN
    )

    assert again.status_code == 200
    assert "You're subscribed" in again.content.decode()
    assert (
        "already confirmed" in browser.get(confirm_path(subscription), secure=True).content.decode()
    )
    subscription.refresh_from_db()
    assert subscription.confirmed_at == first


def test_an_old_link_does_not_undo_an_unsubscribe_without_asking(
    browser: Client, weekly: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
    subscription = bob.subscriptions.get()
    services.unsubscribe(subscriber_id=bob.pk)

    page = browser.get(confirm_path(subscription), secure=True).content.decode()
    assert "Subscribe me again" in page
    plain = post_form(browser, confirm_path(subscription))
    assert plain.status_code == 409
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.UNSUBSCRIBED

    explicit = post_form(browser, confirm_path(subscription), {"resubscribe": "1"})

    assert explicit.status_code == 200
    subscription.refresh_from_db()
    assert subscription.status == Subscription.Status.CONFIRMED
    assert subscription.unsubscribed_at is None


@pytest.mark.parametrize(
    "token",
    [
        "tampered",
        make_token(Purpose.UNSUBSCRIBE, subscriber_id=1),
    ],
)
def test_a_forged_or_foreign_token_gets_the_invalid_link_page(
    browser: Client, weekly: MailingList, token: str
) -> None:
    services.create_subscriber(email="bob@example.com", lists=[weekly])
    response = browser.get(reverse("public:confirm", args=[token]), secure=True)
    assert response.status_code == 404
    assert "This link doesn" in response.content.decode()


def test_a_confirm_token_moved_to_another_subscription_is_refused(
    browser: Client, weekly: MailingList
) -> None:
    bob = services.create_subscriber(email="bob@example.com", lists=[weekly])
    subscription = bob.subscriptions.get()
    _, _, mac = make_confirm_token(subscription.pk).partition(".")
    moved = f"{subscription.pk + 1:x}.{mac}"
    assert browser.get(reverse("public:confirm", args=[moved]), secure=True).status_code == 404
