"""Double opt-in beyond the first email: a list's own wording, the one
reminder, expiry, asking again over the API, and the system mail channel."""

from __future__ import annotations

from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.services import create_token
from postino import jobs
from subscribers import confirmation, services
from subscribers.models import ConsentEvent, MailingList, Subscriber, Subscription
from tests.api.client import ApiClient
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer

OWN_WORDS = """<p>Hi {{ subscriber.name or "there" }}, welcome to {{ list.name }}!</p>
{% if reminder %}<p>Still interested?</p>{% endif %}
<p><a href="{{ confirm_url }}">Yes, sign me up</a></p>"""


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def test_a_list_words_its_own_email_and_its_reminder(
    db: None, smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    make_smtp_server(smtpd)
    club = services.create_list(
        name="Book club",
        optin="double",
        confirmation_subject="{{ subscriber.name }}, one click to join {{ list.name }}",
        confirmation_html=OWN_WORDS,
    )
    ann = services.create_subscriber(email="ann@example.com", name="Ann", lists=[club])
    pending = ann.subscriptions.get()
    confirmation.send_confirmations([pending.pk])
    confirmation.send_confirmations([pending.pk], reminder=True)
    first, reminder = (m.parsed() for m in smtpd.handler.messages)
    assert first["Subject"] == "Ann, one click to join Book club"
    assert "welcome to Book club!" in body(first, "html")
    assert "Still interested?" not in body(first, "html")
    assert "Still interested?" in body(reminder, "html")
    # The text part is made from the list's HTML, link included.
    assert confirmation.confirm_url(pending.pk) in body(first, "plain")


@pytest.mark.parametrize(
    ("subject", "html", "field", "message"),
    [
        (
            "Join {{ list.name",
            "",
            "confirmation_subject",
            "Line 1: unexpected end of template, expected 'end of print statement'.",
        ),
        (
            "",
            "<p>Hello</p>",
            "confirmation_html",
            "The email must contain {{ confirm_url }} (a link or the address itself): "
            "without it nobody can confirm.",
        ),
        (
            "",
            "<p>{{ confirm_url }}\n{% if %}</p>",
            "confirmation_html",
            "Line 2: Expected an expression, got 'end of statement block'",
        ),
    ],
)
def test_a_confirmation_email_that_would_fail_is_refused_on_save(
    db: None, subject: str, html: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        services.create_list(
            name="Club", optin="double", confirmation_subject=subject, confirmation_html=html
        )
    assert caught.value.message_dict == {field: [message]}
    assert not MailingList.objects.exists()


def test_one_reminder_after_some_days_then_expiry(
    db: None, settings: Any, queued_jobs: QueuedJobs, django_capture_on_commit_callbacks: Any
) -> None:
    settings.POSTINO = {
        **settings.POSTINO,
        "CONFIRMATION_REMINDER_DAYS": 3,
        "CONFIRMATION_EXPIRY_DAYS": 30,
    }
    weekly = services.create_list(name="Weekly", optin="double")
    now = timezone.now()
    people = {}
    for label, asked_days_ago, joined_days_ago in (
        ("fresh", 1, 1),
        ("due", 4, 4),
        ("old", 40, 40),
        ("reminded", 10, 10),
    ):
        person = Subscriber.objects.create(email=f"{label}@example.com")
        people[label] = Subscription.objects.create(
            subscriber=person,
            mailing_list=weekly,
            confirmation_sent_at=now - timedelta(days=asked_days_ago),
        )
        Subscription.objects.filter(pk=people[label].pk).update(
            created_at=now - timedelta(days=joined_days_ago)
        )
    Subscription.objects.filter(pk=people["reminded"].pk).update(
        reminder_sent_at=now - timedelta(days=6)
    )
    confirmed = Subscriber.objects.create(email="yes@example.com")
    Subscription.objects.create(subscriber=confirmed, mailing_list=weekly, status="confirmed")
    Subscription.objects.filter(subscriber=confirmed).update(created_at=now - timedelta(days=90))

    with django_capture_on_commit_callbacks(execute=True):
        run = confirmation.sweep()
    assert run.reminded == [people["due"].pk]
    assert queued_jobs.of(jobs.SEND_REMINDERS) == [([people["due"].pk],)]
    assert run.expired == 1
    assert not Subscription.objects.filter(pk=people["old"].pk).exists()
    assert Subscription.objects.filter(subscriber=confirmed).exists()
    expired = ConsentEvent.objects.get(kind=ConsentEvent.Kind.EXPIRED)
    assert (expired.subscriber_id, expired.note) == (
        people["old"].subscriber_id,
        "Not confirmed within 30 days",
    )
    # A second sweep finds nothing left to do: nobody is reminded twice.
    with django_capture_on_commit_callbacks(execute=True):
        again = confirmation.sweep()
    assert (again.reminded, again.expired) == ([], 0)


def test_the_api_asks_again_or_says_there_is_nothing_to_confirm(
    owner: User, queued_jobs: QueuedJobs, django_capture_on_commit_callbacks: Any
) -> None:
    api = ApiClient(create_token(user=owner))
    weekly = services.create_list(name="Weekly", optin="double")
    daily = services.create_list(name="Daily")
    with django_capture_on_commit_callbacks(execute=True):
        bob = services.create_subscriber(email="bob@example.com", lists=[weekly, daily])
    queued_jobs.clear()
    with django_capture_on_commit_callbacks(execute=True):
        answer = api.post(f"/subscribers/{bob.pk}/confirmation", {})
    assert answer.status_code == 202
    assert answer.json() == {"lists": [weekly.pk]}
    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [
        ([bob.subscriptions.get(mailing_list=weekly).pk],)
    ]
    refused = api.post(f"/subscribers/{bob.pk}/confirmation", {"lists": [daily.pk]})
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        "bob@example.com has no subscription waiting for confirmation on those lists."
    )


def test_the_system_mail_channel_is_chosen_in_settings(
    teammate_client: Client, smtpd: RunningSmtpServer
) -> None:
    first = make_smtp_server(smtpd, name="Campaigns")
    second = make_smtp_server(smtpd, name="Transactional")
    assert confirmation.confirmation_server() == first  # the oldest, by default
    url = reverse("delivery:system_mail")
    assert "Now sending through: <strong>Campaigns</strong>" in teammate_client.get(url).text
    teammate_client.post(url, {"server": second.pk})
    assert confirmation.confirmation_server() == second
    teammate_client.post(url, {"server": ""})
    assert confirmation.confirmation_server() == first
