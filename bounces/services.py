"""Recording bounces and complaints, and acting on them (the policy).

Every source ends here: SMTP replies while sending (``record_smtp_failures``),
DSNs and feedback reports from the bounce server or a polled mailbox
(``ingest_message``), and ESP webhooks (``record_event``). Each report becomes
a ``BounceEvent`` tied, when we can tell, to the exact ledger row; the
``BouncePolicy`` then decides whether the address is suppressed, whether a
complaint unsubscribes it, and whether the campaign must pause.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from bounces.models import BounceEvent, BouncePolicy, Suppression
from bounces.selectors import campaign_bounce_summary
from campaigns.models import Campaign
from delivery.models import Delivery
from postino.actors import signed_in
from subscribers import consent
from subscribers.models import Subscriber
from subscribers.services import unsubscribe
from transactional.models import TxMessage

RAW_LIMIT = 256 * 1024

Kind = BounceEvent.Kind


@dataclass(frozen=True, slots=True)
class SmtpFailure:
    """A permanent SMTP refusal seen while sending one ledger row."""

    delivery_id: int
    campaign_id: int
    subscriber_id: int
    email: str
    code: int | None
    reply: str


@dataclass(frozen=True, slots=True)
class TxRefusal:
    """A permanent SMTP refusal of one transactional message."""

    tx_message_id: int
    subscriber_id: int | None
    email: str
    code: int | None
    reply: str


# --- suppressions ---------------------------------------------------------------


def suppress(
    *,
    email: str,
    reason: str,
    bounce: BounceEvent | None = None,
    campaign: Campaign | None = None,
    note: str = "",
) -> Suppression:
    """Stop sending to an address; idempotent (an active suppression is kept)."""
    email = email.strip().lower()
    existing = Suppression.objects.filter(email=email, lifted_at__isnull=True).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Suppression.objects.create(
                email=email, reason=reason, bounce=bounce, campaign=campaign, note=note[:500]
            )
    except IntegrityError:
        # Another worker suppressed it at the same moment.
        return Suppression.objects.get(email=email, lifted_at__isnull=True)


def lift_suppression(*, suppression: Suppression, actor: Any = None) -> Suppression:
    """Send to the address again; the record of why it was suppressed stays."""
    if suppression.lifted_at is None:
        suppression.lifted_at = timezone.now()
        suppression.lifted_by = signed_in(actor)
        suppression.save(update_fields=["lifted_at", "lifted_by"])
    return suppression


def suppressed_emails(emails: Iterable[str]) -> dict[str, str]:
    """Active suppressions among ``emails``: address → reason (one query)."""
    wanted = {email.lower() for email in emails}
    if not wanted:
        return {}
    return dict(
        Suppression.objects.filter(email__in=wanted, lifted_at__isnull=True).values_list(
            "email", "reason"
        )
    )


# --- the policy -------------------------------------------------------------------


def apply_policy(event: BounceEvent, policy: BouncePolicy | None = None) -> Suppression | None:
    """Act on one event as the policy says; returns the suppression it caused."""
    policy = policy or BouncePolicy.current()
    email = event.email
    if not email:
        return None
    if event.kind == Kind.HARD and policy.hard_action == BouncePolicy.Action.SUPPRESS:
        return suppress(
            email=email,
            reason=Suppression.Reason.HARD_BOUNCE,
            bounce=event,
            campaign=event.campaign,
            note=f"{event.status} {event.diagnostic}".strip()[:500],
        )
    if event.kind == Kind.SOFT and policy.soft_action == BouncePolicy.Action.SUPPRESS:
        since = timezone.now() - timedelta(days=policy.soft_window_days)
        recent = BounceEvent.objects.filter(
            email=email, kind=Kind.SOFT, received_at__gte=since
        ).count()
        if recent >= policy.soft_threshold:
            return suppress(
                email=email,
                reason=Suppression.Reason.SOFT_BOUNCES,
                bounce=event,
                campaign=event.campaign,
                note=f"{recent} soft bounces in {policy.soft_window_days} days; last: "
                f"{event.status} {event.diagnostic}"[:500],
            )
        return None
    if event.kind == Kind.COMPLAINT and (
        policy.complaint_action == BouncePolicy.ComplaintAction.UNSUBSCRIBE
    ):
        subscriber_id = event.subscriber_id or (
            Subscriber.objects.filter(email=email).values_list("id", flat=True).first()
        )
        if subscriber_id:
            unsubscribe(
                subscriber_id=subscriber_id,
                list_ids=None,
                origin=consent.SYSTEM,
                reason=f"Complaint ({event.feedback_type or 'abuse'})",
            )
        return suppress(
            email=email,
            reason=Suppression.Reason.COMPLAINT,
            bounce=event,
            campaign=event.campaign,
            note=f"feedback type {event.feedback_type or 'abuse'}",
        )
    if event.kind == Kind.UNSUBSCRIBE and event.subscriber_id:
        list_ids = (
            list(event.campaign.lists.values_list("id", flat=True)) if event.campaign else None
        )
        unsubscribe(
            subscriber_id=event.subscriber_id,
            list_ids=list_ids,
            origin=consent.SYSTEM,
            reason="Unsubscribed at the ESP",
        )
    return None


def campaign_bounce_rates(campaign_id: int) -> dict[str, float | int]:
    """Sent, attempted, hard bounces, complaints and their rates for one campaign.

    The figures the campaign page shows (``bounces.selectors.BounceSummary``):
    an asynchronous bounce adds a bounce, not an attempt.
    """
    summary = campaign_bounce_summary([campaign_id])[campaign_id]
    return {
        "sent": summary.sent,
        "attempted": summary.attempted,
        "hard": summary.hard,
        "soft": summary.soft,
        "complaints": summary.complaints,
        "hard_rate": summary.hard_rate,
        "complaint_rate": summary.complaint_rate,
    }


def check_campaign_health(campaign_id: int, policy: BouncePolicy | None = None) -> bool:
    """Pause a running campaign whose complaint or hard-bounce rate is too high."""
    from campaigns.services import pause_automatically

    campaign = Campaign.objects.filter(pk=campaign_id, status=Campaign.Status.RUNNING).first()
    if campaign is None:
        return False
    policy = policy or BouncePolicy.current()
    rates = campaign_bounce_rates(campaign_id)
    if int(rates["attempted"]) < policy.pause_min_sent:
        return False
    reason = ""
    if float(rates["complaint_rate"]) > policy.pause_complaint_rate:
        reason = (
            f"Paused automatically: complaint rate {float(rates['complaint_rate']):.2%} "
            f"({rates['complaints']} of {rates['sent']}) is above "
            f"{policy.pause_complaint_rate:.2%}."
        )
    elif float(rates["hard_rate"]) > policy.pause_hard_bounce_rate:
        reason = (
            f"Paused automatically: hard-bounce rate {float(rates['hard_rate']):.1%} "
            f"({rates['hard']} addresses) is above {policy.pause_hard_bounce_rate:.1%}."
        )
    return bool(reason) and pause_automatically(campaign=campaign, reason=reason)


# --- sources --------------------------------------------------------------------


def record_smtp_failures(failures: Sequence[SmtpFailure]) -> list[BounceEvent]:
    """Bounce events for 5xx refusals seen while sending (called per batch)."""
    if not failures:
        return []
    events = [
        _refusal_event(
            failure.email,
            failure.code,
            failure.reply,
            delivery_id=failure.delivery_id,
            campaign_id=failure.campaign_id,
            subscriber_id=failure.subscriber_id,
        )
        for failure in failures
    ]
    created, policy = _store_refusals(events)
    for campaign_id in {failure.campaign_id for failure in failures}:
        check_campaign_health(campaign_id, policy)
    return created


def record_tx_refusals(refusals: Sequence[TxRefusal]) -> list[BounceEvent]:
    """Bounce events for transactional messages refused while sending; the
    policy suppresses as for campaign mail (no campaign to pause)."""
    if not refusals:
        return []
    events = [
        _refusal_event(
            refusal.email,
            refusal.code,
            refusal.reply,
            tx_message_id=refusal.tx_message_id,
            subscriber_id=refusal.subscriber_id,
        )
        for refusal in refusals
    ]
    created, _ = _store_refusals(events)
    return created


def _refusal_event(email: str, code: int | None, reply: str, **ledger: Any) -> BounceEvent:
    """The bounce event of a refusal seen while sending, tied to its ledger row(s)."""
    from bounces.parser import classify_smtp_reply

    kind, status = classify_smtp_reply(code, reply)
    return BounceEvent(
        kind=kind,
        source=BounceEvent.Source.SMTP,
        email=email,
        status=status or "",
        smtp_code=code,
        action="failed",
        diagnostic=reply[:2000],
        **ledger,
    )


def _store_refusals(events: list[BounceEvent]) -> tuple[list[BounceEvent], BouncePolicy]:
    """Store a batch of refusals, and apply the policy to those that suppress."""
    created = BounceEvent.objects.bulk_create(events)
    policy = BouncePolicy.current()
    for event in created:
        if event.suppresses:
            apply_policy(event, policy)
    return created, policy


def _tx_bounced(events: Sequence[BounceEvent]) -> None:
    """A transactional message a bounce report is about is ``bounced``."""
    bounced = {
        event.tx_message_id
        for event in events
        if event.tx_message_id and event.kind in (Kind.HARD, Kind.SOFT)
    }
    if bounced:
        now = timezone.now()
        TxMessage.objects.filter(pk__in=bounced).update(
            status=TxMessage.Status.BOUNCED, bounced_at=now, updated_at=now
        )


def ingest_message(
    raw: bytes, *, source: str, envelope_recipient: str | None = None
) -> list[BounceEvent]:
    """Parse a DSN, feedback report or other returned mail and act on it."""
    from bounces.parser import parse_message

    report = parse_message(raw, envelope_recipient=envelope_recipient)
    delivery = None
    if report.verp_delivery_id:
        delivery = (
            Delivery.objects.select_related("subscriber", "campaign")
            .filter(pk=report.verp_delivery_id)
            .first()
        )
    tx_message = None
    if report.verp_tx_id:
        tx_message = TxMessage.objects.filter(pk=report.verp_tx_id).first()
    text = raw[:RAW_LIMIT].decode("utf-8", "replace")
    recipients = list(report.recipients)
    events: list[BounceEvent] = []
    policy = BouncePolicy.current()
    if not recipients:
        # A report naming nobody (a redacted complaint, a bounce that quotes
        # nothing): our VERP token still tells whose it is.
        email = delivery.subscriber.email if delivery else ""
        if tx_message is not None:
            email = tx_message.email
        events.append(
            _event_for(
                report.kind, email, None, report, delivery, source=source, raw=text, tx=tx_message
            )
        )
    for recipient in recipients:
        email = (recipient.email or "").lower()
        original = (getattr(recipient, "original_recipient", "") or "").lower()
        matched = delivery
        if delivery is not None and email and delivery.subscriber.email not in {email, original}:
            matched = None  # the bounce names someone else than our token
        elif matched is not None:
            # Forwarded mail bounces at the final address; the row is our subscriber's.
            email = delivery.subscriber.email if delivery else email
        if not email and delivery is not None:
            email = delivery.subscriber.email
        tx = tx_message
        if tx is not None and email and tx.email not in {email, original}:
            tx = None  # the bounce names someone else than our token
        elif tx is not None:
            email = tx.email
        events.append(
            _event_for(
                recipient.kind or report.kind,
                email,
                recipient,
                report,
                matched,
                source=source,
                raw=text,
                tx=tx,
            )
        )
    for event in events:
        if event.suppresses or event.kind == Kind.UNSUBSCRIBE:
            apply_policy(event, policy)
    for campaign_id in {event.campaign_id for event in events if event.campaign_id}:
        check_campaign_health(campaign_id, policy)
    _tx_bounced(events)
    return events


# Feedback reports that are not complaints about our mail: a "not spam" vote
# and an authentication-failure report suppress nobody.
NON_COMPLAINT_FEEDBACK = {"not-spam", "auth-failure"}


def _event_for(
    kind: str,
    email: str,
    recipient: Any,
    report: Any,
    delivery: Delivery | None,
    *,
    source: str,
    raw: str,
    tx: TxMessage | None = None,
) -> BounceEvent:
    subscriber_id = delivery.subscriber_id if delivery else None
    if subscriber_id is None and tx is not None:
        subscriber_id = tx.subscriber_id
    campaign_id = delivery.campaign_id if delivery else report.campaign_id
    if subscriber_id is None and email:
        subscriber_id = Subscriber.objects.filter(email=email).values_list("id", flat=True).first()
    if campaign_id is not None and not Campaign.objects.filter(pk=campaign_id).exists():
        campaign_id = None
    if kind == Kind.COMPLAINT and (report.feedback_type or "").lower() in NON_COMPLAINT_FEEDBACK:
        kind = Kind.NOT_BOUNCE
    return BounceEvent.objects.create(
        kind=kind,
        source=source,
        email=email,
        status=getattr(recipient, "status", "") or "",
        action=getattr(recipient, "action", "") or "",
        diagnostic=(getattr(recipient, "diagnostic", "") or "")[:2000],
        remote_mta=(getattr(recipient, "remote_mta", "") or "")[:255],
        feedback_type=report.feedback_type or "",
        delivery=delivery,
        campaign_id=campaign_id,
        subscriber_id=subscriber_id,
        tx_message=tx,
        raw=raw,
    )


def record_event(
    *,
    kind: str,
    email: str,
    provider: str,
    event_id: str = "",
    status: str = "",
    diagnostic: str = "",
    feedback_type: str = "",
    delivery_id: int | None = None,
    tx_message_id: int | None = None,
    provider_message_id: str = "",
    raw: str = "",
) -> BounceEvent | None:
    """An ESP's tracking event (through its anymail webhook); ``None`` if it
    was already recorded (ESPs re-send events they think we missed)."""
    delivery = None
    if delivery_id:
        delivery = Delivery.objects.select_related("subscriber").filter(pk=delivery_id).first()
    if delivery is None and provider_message_id:
        delivery = (
            Delivery.objects.select_related("subscriber")
            .filter(provider_message_id=provider_message_id)
            .first()
        )
    tx = None
    if delivery is None and tx_message_id:
        tx = TxMessage.objects.filter(pk=tx_message_id).first()
    if delivery is None and tx is None and provider_message_id:
        tx = TxMessage.objects.filter(provider_message_id=provider_message_id).first()
    if tx is not None:
        email = email or tx.email
    email = (email or (delivery.subscriber.email if delivery else "")).lower()
    subscriber_id = delivery.subscriber_id if delivery else (tx.subscriber_id if tx else None)
    if subscriber_id is None and email:
        subscriber_id = Subscriber.objects.filter(email=email).values_list("id", flat=True).first()
    try:
        with transaction.atomic():
            event = BounceEvent.objects.create(
                kind=kind,
                source=BounceEvent.Source.WEBHOOK,
                email=email,
                status=status,
                diagnostic=diagnostic[:2000],
                feedback_type=feedback_type,
                provider=provider,
                event_id=event_id[:255],
                delivery=delivery,
                campaign_id=delivery.campaign_id if delivery else None,
                subscriber_id=subscriber_id,
                tx_message=tx,
                raw=raw[:RAW_LIMIT],
            )
    except IntegrityError:
        return None
    policy = BouncePolicy.current()
    if event.suppresses or event.kind == Kind.UNSUBSCRIBE:
        apply_policy(event, policy)
    if event.campaign_id:
        check_campaign_health(event.campaign_id, policy)
    _tx_bounced([event])
    return event


# --- settings and manual suppressions (the marketer pages) ----------------------

MAX_SOFT_WINDOW_DAYS = 365
MAX_COUNT = 2_147_483_647  # a PositiveIntegerField's ceiling


def update_policy(
    *,
    hard_action: str,
    soft_action: str,
    soft_threshold: int,
    soft_window_days: int,
    complaint_action: str,
    pause_complaint_rate: float,
    pause_hard_bounce_rate: float,
    pause_min_sent: int,
) -> BouncePolicy:
    """Save the bounce policy; every problem at once, keyed by field name.

    Rates are fractions (0.003 is 0.3%); pages show and take percentages.
    """
    import math

    from django.core.exceptions import ValidationError

    errors: dict[str, list[str]] = {}
    if hard_action not in BouncePolicy.Action.values:
        errors["hard_action"] = ["Choose what a hard bounce does."]
    if soft_action not in BouncePolicy.Action.values:
        errors["soft_action"] = ["Choose what soft bounces do."]
    if complaint_action not in BouncePolicy.ComplaintAction.values:
        errors["complaint_action"] = ["Choose what a complaint does."]
    if not 1 <= soft_threshold <= MAX_COUNT:
        errors["soft_threshold"] = ["Suppress after at least 1 soft bounce."]
    if not 1 <= soft_window_days <= MAX_SOFT_WINDOW_DAYS:
        errors["soft_window_days"] = [
            f"The window is from 1 to {MAX_SOFT_WINDOW_DAYS} days.",
        ]
    for name, rate in (
        ("pause_complaint_rate", pause_complaint_rate),
        ("pause_hard_bounce_rate", pause_hard_bounce_rate),
    ):
        if not (math.isfinite(rate) and 0.0 <= rate <= 1.0):
            errors[name] = ["A rate is from 0% to 100%."]
    if not 1 <= pause_min_sent <= MAX_COUNT:
        errors["pause_min_sent"] = ["Judge a campaign after at least 1 message."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = BouncePolicy.current()
        policy.hard_action = hard_action
        policy.soft_action = soft_action
        policy.soft_threshold = soft_threshold
        policy.soft_window_days = soft_window_days
        policy.complaint_action = complaint_action
        policy.pause_complaint_rate = float(pause_complaint_rate)
        policy.pause_hard_bounce_rate = float(pause_hard_bounce_rate)
        policy.pause_min_sent = pause_min_sent
        policy.save()
    return policy


def add_manual_suppression(*, email: str, note: str, actor: Any) -> Suppression:
    """Suppress an address by hand (a request by phone, a known trap); the note
    says why and who added it, since manual suppressions have no bounce."""
    from django.core.exceptions import ValidationError

    from subscribers.services import normalize_email

    try:
        address = normalize_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    existing = Suppression.objects.filter(email=address, lifted_at__isnull=True).first()
    if existing is not None:
        raise ValidationError(
            {"email": [f"{address} is already suppressed ({existing.get_reason_display()})."]}
        )
    note = " ".join(note.split())
    who = actor.get_username() if getattr(actor, "is_authenticated", False) else ""
    if who:
        suffix = f" (added by {who})"
        note = note[: 500 - len(suffix)] + suffix if note else f"Added by {who}"
    return suppress(email=address, reason=Suppression.Reason.MANUAL, note=note)
