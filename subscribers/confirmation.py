"""Double opt-in confirmation emails: build them, send them, note when.

Postino has no campaign behind these messages, so they take the application's
own sender: From is ``DEFAULT_FROM_EMAIL``, the channel is the one chosen under
Settings → System mail (``delivery.models.SystemMail``), else the server named
by ``CONFIRMATION_SMTP_SERVER``, else the oldest configured server (the one
``bootstrap`` creates from ``SMTP_*``; under ``make run``, the mail catcher).
A list may word the email itself (``MailingList.confirmation_subject`` and
``confirmation_html``, sandboxed Jinja checked by ``check_template`` on save);
one reminder goes out after ``CONFIRMATION_REMINDER_DAYS`` and an unconfirmed
subscription is let go after ``CONFIRMATION_EXPIRY_DAYS`` (``sweep``). They go
through the same channel and gate as campaigns (``delivery.pipeline.direct``),
with the plain bounce address as envelope sender, so a bounce is still ours
to read.

The message carries no ``List-Unsubscribe``: the person is not on the list
yet, and ignoring the email is how one declines. Addresses that are
suppressed or blocklisted are not asked.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from bounces.services import suppressed_emails
from delivery import verp
from delivery.mime import format_address, new_message_id
from delivery.models import SmtpServer
from delivery.pipeline.direct import send_now
from delivery.pipeline.types import ChannelError, NoConnectionSlot, Outcome, PreparedMessage
from delivery.selectors import system_mail_server
from postino import jobs
from subscribers import confirmation_template, consent
from subscribers.models import ConsentEvent, Subscriber, Subscription
from subscribers.tokens import make_confirm_token

log = logging.getLogger(__name__)


@dataclass
class ConfirmationRun:
    """What one batch did; ``retry`` holds the ids worth trying again later."""

    sent: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)


def confirmation_server() -> SmtpServer | None:
    """The server Postino's own mail goes through (see the module docstring)."""
    return system_mail_server()


def confirm_url(subscription_id: int) -> str:
    token = make_confirm_token(subscription_id)
    return f"{settings.BASE_URL}{reverse('public:confirm', args=[token])}"


def prepare_confirmation(subscription: Subscription, *, reminder: bool = False) -> PreparedMessage:
    """The confirmation email for one subscription (subscriber and list loaded)."""
    subscriber = subscription.subscriber
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    subject, html, text = confirmation_template.render(
        subscription, confirm_url(subscription.pk), reminder=reminder
    )
    return PreparedMessage(
        envelope_from=verp.envelope_sender_for(None),
        message_id=new_message_id(address.rpartition("@")[2] or settings.BASE_HOST),
        from_header=format_address(name, address),
        to_header=format_address(subscriber.name, subscriber.email),
        recipient=subscriber.email,
        reply_to="",
        subject=subject,
        html=html,
        text=text,
        headers=[("Auto-Submitted", "auto-generated"), ("Feedback-ID", "confirm:postino")],
    )


def _pending(subscription_ids: Sequence[int]) -> QuerySet[Subscription]:
    return (
        Subscription.objects.filter(
            pk__in=list(subscription_ids), status=Subscription.Status.UNCONFIRMED
        )
        .exclude(subscriber__status=Subscriber.Status.BLOCKLISTED)
        .select_related("subscriber", "mailing_list")
        .order_by("pk")
    )


def send_confirmations(
    subscription_ids: Sequence[int], *, reminder: bool = False
) -> ConfirmationRun:
    """Send the confirmation email of each still-unconfirmed subscription.

    Confirmed, unsubscribed or deleted ones are skipped, so a task that runs
    twice, or late, asks nobody twice for nothing. No transaction is held
    while the server is talked to; ``confirmation_sent_at`` is written after.
    """
    run = ConfirmationRun()
    rows = list(_pending(subscription_ids))
    run.skipped = sorted(set(subscription_ids) - {row.pk for row in rows})
    suppressed = suppressed_emails(row.subscriber.email for row in rows)
    run.skipped += [row.pk for row in rows if row.subscriber.email in suppressed]
    rows = [row for row in rows if row.subscriber.email not in suppressed]
    if not rows:
        return run
    server = confirmation_server()
    if server is None:
        log.warning(
            "no server for confirmation emails (CONFIRMATION_SMTP_SERVER=%r); %s not sent",
            settings.POSTINO["CONFIRMATION_SMTP_SERVER"],
            len(rows),
        )
        run.failed = [row.pk for row in rows]
        return run
    messages = [prepare_confirmation(row, reminder=reminder) for row in rows]
    try:
        results = send_now(server, messages)
    except (ChannelError, NoConnectionSlot) as exc:
        log.warning("confirmation emails via %s failed: %s", server, exc)
        run.retry = [row.pk for row in rows]
        return run
    for row, result in zip(rows, results, strict=True):
        if result.outcome is Outcome.SENT:
            run.sent.append(row.pk)
        elif result.outcome is Outcome.TRANSIENT:
            run.retry.append(row.pk)
        else:
            log.warning("confirmation email for subscription %s refused: %s", row.pk, result.reply)
            run.failed.append(row.pk)
    now = timezone.now()
    sent_at = "reminder_sent_at" if reminder else "confirmation_sent_at"
    Subscription.objects.filter(pk__in=run.sent).update(**{sent_at: now}, updated_at=now)
    if reminder:
        sent = set(run.sent)
        consent.record_all(
            consent.event(
                subscriber_id=row.subscriber_id,
                kind=ConsentEvent.Kind.REMINDED,
                origin=consent.SYSTEM,
                mailing_list_id=row.mailing_list_id,
                status=Subscription.Status.UNCONFIRMED,
            )
            for row in rows
            if row.pk in sent
        )
    return run


# Subscriptions handled per round of the sweep, and per confirmation task.
SWEEP_BATCH = 500


@dataclass
class SweepRun:
    reminded: list[int] = field(default_factory=list)
    expired: int = 0


def sweep(now: datetime | None = None) -> SweepRun:
    """Remind, once, those who have not confirmed after ``CONFIRMATION_REMINDER_DAYS``
    and let go of subscriptions still unconfirmed after ``CONFIRMATION_EXPIRY_DAYS``.

    Run by beat. Each round claims its rows in a transaction of its own
    (skipping rows another sweep holds), so two sweeps never remind anyone
    twice and a killed one leaves nothing half done.
    """
    now = now or timezone.now()
    run = SweepRun()
    expiry_days = int(settings.POSTINO["CONFIRMATION_EXPIRY_DAYS"])
    reminder_days = int(settings.POSTINO["CONFIRMATION_REMINDER_DAYS"])
    unconfirmed = Subscription.objects.filter(status=Subscription.Status.UNCONFIRMED)
    if expiry_days > 0:
        cutoff = now - timedelta(days=expiry_days)
        while True:
            with transaction.atomic():
                batch = list(
                    unconfirmed.filter(created_at__lt=cutoff)
                    .select_for_update(skip_locked=True)
                    .order_by("pk")
                    .values_list("pk", "subscriber_id", "mailing_list_id")[:SWEEP_BATCH]
                )
                if not batch:
                    break
                Subscription.objects.filter(pk__in=[pk for pk, _, _ in batch]).delete()
                consent.record_all(
                    consent.event(
                        subscriber_id=subscriber_id,
                        kind=ConsentEvent.Kind.EXPIRED,
                        origin=consent.SYSTEM,
                        mailing_list_id=list_id,
                        note=f"Not confirmed within {expiry_days} days",
                    )
                    for _, subscriber_id, list_id in batch
                )
            run.expired += len(batch)
    if reminder_days > 0:
        due = unconfirmed.filter(
            reminder_sent_at__isnull=True,
            confirmation_sent_at__lt=now - timedelta(days=reminder_days),
        )
        while True:
            with transaction.atomic():
                ids = list(
                    due.select_for_update(skip_locked=True)
                    .order_by("pk")
                    .values_list("pk", flat=True)[:SWEEP_BATCH]
                )
                if not ids:
                    break
                # Claimed now; the task notes the time again once it went out.
                due.filter(pk__in=ids).update(reminder_sent_at=now)
                jobs.send_reminders(ids)
            run.reminded += ids
    return run
