"""Writes for campaigns: create, edit, start, pause, resume, cancel, test sends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import getaddresses, parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign, Template
from campaigns.rendering import validate_templates
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList, Subscriber, Subscription

MAX_TEST_RECIPIENTS = 20


class CampaignStateError(Exception):
    """The campaign is not in a state that allows the requested action."""


def validate_from_address(value: str, field: str = "from_email") -> str:
    value = (value or "").strip()
    name, address = parseaddr(value)
    if not address or "@" not in address or "\n" in value or "\r" in value:
        raise ValidationError({field: "Enter an address such as News <news@example.com>."})
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError({field: f"{address!r} is not a valid email address."}) from exc
    del name
    return value


def _check_templates(*, subject: str, html: str, text: str, template: Template | None) -> None:
    # Raises campaigns.rendering.TemplateValidationError with field, line and message.
    validate_templates(
        subject=subject, html=html, text=text, layout=template.html if template else None
    )


def create_campaign(
    *,
    name: str,
    subject: str,
    from_email: str,
    html: str,
    lists: Iterable[MailingList],
    smtp_server: SmtpServer | None,
    text: str = "",
    reply_to: str = "",
    template: Template | None = None,
    actor: Any = None,
) -> Campaign:
    from_email = validate_from_address(from_email)
    if reply_to:
        reply_to = validate_from_address(reply_to, "reply_to")
    if not name.strip():
        raise ValidationError({"name": "A campaign needs a name."})
    if not subject.strip():
        raise ValidationError({"subject": "A campaign needs a subject."})
    _check_templates(subject=subject, html=html, text=text, template=template)
    with transaction.atomic():
        campaign = Campaign.objects.create(
            name=name.strip(),
            subject=subject,
            from_email=from_email,
            reply_to=reply_to,
            html=html,
            text=text,
            template=template,
            smtp_server=smtp_server,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        campaign.lists.set(list(lists))
    return campaign


def update_campaign(
    *,
    campaign: Campaign,
    name: str,
    subject: str,
    from_email: str,
    html: str,
    lists: Iterable[MailingList],
    smtp_server: SmtpServer | None,
    text: str = "",
    reply_to: str = "",
    template: Template | None = None,
) -> Campaign:
    if not campaign.is_editable:
        raise CampaignStateError(f"a {campaign.status} campaign can no longer be edited")
    from_email = validate_from_address(from_email)
    if reply_to:
        reply_to = validate_from_address(reply_to, "reply_to")
    _check_templates(subject=subject, html=html, text=text, template=template)
    with transaction.atomic():
        campaign.name = name.strip()
        campaign.subject = subject
        campaign.from_email = from_email
        campaign.reply_to = reply_to
        campaign.html = html
        campaign.text = text
        campaign.template = template
        campaign.smtp_server = smtp_server
        campaign.save()
        campaign.lists.set(list(lists))
    return campaign


def snapshot_audience(campaign: Campaign) -> int:
    """Write one pending ledger row per recipient, in one set-based statement.

    Recipients are enabled subscribers with a confirmed subscription to any of
    the campaign's lists, deduplicated across lists. ON CONFLICT makes a
    second snapshot (a retry after a crash) a no-op for rows already there.
    """
    now = timezone.now()
    delivery = Delivery._meta.db_table
    subscriber = Subscriber._meta.db_table
    subscription = Subscription._meta.db_table
    campaign_lists = Campaign.lists.through._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (campaign_id, subscriber_id, status, attempts, smtp_reply, message_id,
             created_at, updated_at)
        SELECT %s, s.id, %s, 0, '', '', %s, %s
        FROM {subscriber} s
        WHERE s.status = %s AND EXISTS (
            SELECT 1 FROM {subscription} sub
            JOIN {campaign_lists} cl ON cl.mailinglist_id = sub.mailing_list_id
            WHERE cl.campaign_id = %s AND sub.subscriber_id = s.id AND sub.status = %s
        )
        ORDER BY s.id
        ON CONFLICT (campaign_id, subscriber_id) DO NOTHING
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                campaign.pk,
                Delivery.Status.PENDING,
                now,
                now,
                Subscriber.Status.ENABLED,
                campaign.pk,
                Subscription.Status.CONFIRMED,
            ],
        )
        return cursor.rowcount


def _check_sendable(campaign: Campaign) -> None:
    problems: dict[str, str] = {}
    if campaign.smtp_server_id is None:
        problems["smtp_server"] = "Choose the SMTP server to send through."
    if not campaign.lists.exists():
        problems["lists"] = "Choose at least one list."
    if problems:
        raise ValidationError(problems)
    _check_templates(
        subject=campaign.subject, html=campaign.html, text=campaign.text, template=campaign.template
    )


def start_campaign(*, campaign: Campaign, scheduled_at: datetime | None = None) -> Campaign:
    """Start now, or schedule for later. Sending happens in Celery chunk tasks."""
    from delivery import tasks

    _check_sendable(campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
            raise CampaignStateError(f"a {locked.status} campaign cannot be started")
        if scheduled_at is not None and scheduled_at > timezone.now():
            locked.status = Campaign.Status.SCHEDULED
            locked.scheduled_at = scheduled_at
            locked.save(update_fields=["status", "scheduled_at", "updated_at"])
            return locked
        snapshot_audience(locked)
        locked.status = Campaign.Status.RUNNING
        locked.status_reason = ""
        locked.started_at = timezone.now()
        locked.save(update_fields=["status", "status_reason", "started_at", "updated_at"])
        campaign_id = locked.pk
        transaction.on_commit(lambda: tasks.dispatch_campaign.delay(campaign_id))
    return locked


def start_due_scheduled_campaigns() -> list[int]:
    started = []
    due = Campaign.objects.filter(
        status=Campaign.Status.SCHEDULED, scheduled_at__lte=timezone.now()
    ).values_list("pk", flat=True)
    for campaign_id in due:
        campaign = Campaign.objects.get(pk=campaign_id)
        try:
            start_campaign(campaign=campaign)
        except (CampaignStateError, ValidationError) as exc:
            Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.SCHEDULED).update(
                status=Campaign.Status.DRAFT, status_reason=f"Scheduled start failed: {exc}"
            )
            continue
        started.append(campaign_id)
    return started


def _transition(campaign: Campaign, *, allowed: set[str], to: str, reason: str = "") -> Campaign:
    # A conditional UPDATE: concurrent callers cannot both win the transition.
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(
        status=to, status_reason=reason, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignStateError(f"a {campaign.status} campaign cannot be {to}")
    return campaign


def pause_campaign(*, campaign: Campaign, reason: str = "") -> Campaign:
    return _transition(
        campaign, allowed={Campaign.Status.RUNNING}, to=Campaign.Status.PAUSED, reason=reason
    )


def resume_campaign(*, campaign: Campaign) -> Campaign:
    from delivery import tasks

    campaign = _transition(campaign, allowed={Campaign.Status.PAUSED}, to=Campaign.Status.RUNNING)
    campaign_id = campaign.pk
    transaction.on_commit(lambda: tasks.dispatch_campaign.delay(campaign_id))
    return campaign


def cancel_campaign(*, campaign: Campaign) -> Campaign:
    campaign = _transition(
        campaign,
        allowed={Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED},
        to=Campaign.Status.CANCELLED,
    )
    Campaign.objects.filter(pk=campaign.pk).update(finished_at=timezone.now())
    return campaign


def parse_test_recipients(raw: str | Sequence[str]) -> list[str]:
    """Parse 'a@x, b@y' or a list; raise ValidationError naming the bad address."""
    if isinstance(raw, str):
        items = [addr for _, addr in getaddresses([raw.replace(";", ",").replace("\n", ",")])]
    else:
        items = list(raw)
    emails: list[str] = []
    for item in items:
        address = (item or "").strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError({"emails": f"{item!r} is not a valid email address."}) from exc
        if address not in emails:
            emails.append(address)
    if not emails:
        raise ValidationError({"emails": "Give at least one address to send the test to."})
    if len(emails) > MAX_TEST_RECIPIENTS:
        raise ValidationError({"emails": f"At most {MAX_TEST_RECIPIENTS} test recipients."})
    return emails


def send_test(*, campaign: Campaign, emails: Sequence[str]) -> list[str]:
    """Queue a test send of the campaign to a few addresses (not recorded in the ledger)."""
    from delivery import tasks

    recipients = parse_test_recipients(emails)
    _check_sendable_for_test(campaign)
    campaign_id = campaign.pk
    transaction.on_commit(lambda: tasks.send_test_messages.delay(campaign_id, recipients))
    return recipients


def _check_sendable_for_test(campaign: Campaign) -> None:
    if campaign.smtp_server_id is None:
        raise ValidationError({"smtp_server": "Choose the SMTP server to send through."})
    _check_templates(
        subject=campaign.subject, html=campaign.html, text=campaign.text, template=campaign.template
    )
