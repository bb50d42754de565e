"""Double opt-in confirmation emails: build them, send them, note when.

Postino has no campaign behind these messages, so they take the application's
own sender: From is ``DEFAULT_FROM_EMAIL``, the channel is the server named by
``CONFIRMATION_SMTP_SERVER``, or else the oldest configured server (on a fresh
``make run`` that is the local mail catcher ``bootstrap`` creates). They go
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
from email.utils import parseaddr

from django.conf import settings
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from bounces.services import suppressed_emails
from delivery import verp
from delivery.mime import format_address, new_message_id
from delivery.models import SmtpServer
from delivery.pipeline.direct import send_now
from delivery.pipeline.types import ChannelError, NoConnectionSlot, Outcome, PreparedMessage
from subscribers.models import Subscriber, Subscription
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
    """The server confirmation emails go through (see the module docstring)."""
    name = settings.POSTINO["CONFIRMATION_SMTP_SERVER"]
    if name:
        return SmtpServer.objects.filter(name=name).first()
    return SmtpServer.objects.order_by("pk").first()


def confirm_url(subscription_id: int) -> str:
    token = make_confirm_token(subscription_id)
    return f"{settings.BASE_URL}{reverse('public:confirm', args=[token])}"


def prepare_confirmation(subscription: Subscription) -> PreparedMessage:
    """The confirmation email for one subscription (subscriber and list loaded)."""
    subscriber = subscription.subscriber
    mailing_list = subscription.mailing_list
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    context = {
        "subscriber": subscriber,
        "list": mailing_list,
        "confirm_url": confirm_url(subscription.pk),
    }
    return PreparedMessage(
        envelope_from=verp.envelope_sender_for(None),
        message_id=new_message_id(address.rpartition("@")[2] or settings.BASE_HOST),
        from_header=format_address(name, address),
        to_header=format_address(subscriber.name, subscriber.email),
        recipient=subscriber.email,
        reply_to="",
        subject=f"Confirm your subscription to {mailing_list.name}",
        html=render_to_string("public/email/confirmation.html", context),
        text=render_to_string("public/email/confirmation.txt", context),
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


def send_confirmations(subscription_ids: Sequence[int]) -> ConfirmationRun:
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
    messages = [prepare_confirmation(row) for row in rows]
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
    Subscription.objects.filter(pk__in=run.sent).update(confirmation_sent_at=now, updated_at=now)
    return run
