"""ESP tracking webhooks, through django-anymail.

Anymail's views (mounted at ``/webhooks/anymail/<esp>/tracking/``) check each
request (the ``ANYMAIL_WEBHOOK_SECRET`` basic auth, and the ESP's own
signature where it has one) and normalise the payload; our receiver only
stores each event once under the ESP's event id and queues it, so the webhook
answers at once and an ESP's re-sends are harmless. Events we do not act on
(opens, clicks, deliveries) are acknowledged and dropped: an ESP re-sends
forever to a webhook that errors.
"""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, RejectReason, tracking
from django.db import IntegrityError, transaction
from django.dispatch import receiver
from django.utils import timezone

from bounces.models import BounceEvent, TrackingEvent
from delivery import verp
from postino import jobs

log = logging.getLogger(__name__)

HANDLED = {
    EventType.BOUNCED,
    EventType.DEFERRED,
    EventType.REJECTED,
    EventType.COMPLAINED,
    EventType.UNSUBSCRIBED,
}


@receiver(tracking, dispatch_uid="postino.bounces.tracking")
def store_tracking_event(sender: Any, event: AnymailTrackingEvent, esp_name: str, **_: Any) -> None:
    if event.event_type not in HANDLED:
        return
    event_id = event.event_id or _fallback_id(event, esp_name)
    try:
        with transaction.atomic():
            stored = TrackingEvent.objects.create(
                provider=esp_name.lower().replace(" ", "_"),
                event_id=event_id[:255],
                event_type=event.event_type,
                recipient=(event.recipient or "")[:320],
                message_id=str(event.message_id or "")[:255],
                reject_reason=event.reject_reason or "",
                description=event.description or "",
                mta_response=event.mta_response or "",
                metadata=dict(event.metadata or {}),
                raw=_jsonable(event.esp_event),
            )
            jobs.process_tracking_event(stored.pk)
    except IntegrityError:
        log.info("%s event %s already received", esp_name, event_id)


def _fallback_id(event: AnymailTrackingEvent, esp_name: str) -> str:
    # Some ESPs give no event id; this key still makes a re-send a duplicate.
    stamp = event.timestamp.isoformat() if event.timestamp else ""
    return f"{esp_name}:{event.event_type}:{event.message_id}:{event.recipient}:{stamp}"


def _jsonable(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {"events": value}
    return {"repr": repr(value)[:5000]}


def kind_for(event: TrackingEvent) -> str:
    """Our classification of an ESP's normalised event."""
    from bounces.parser import classify_smtp_reply

    if event.event_type == EventType.COMPLAINED:
        return BounceEvent.Kind.COMPLAINT
    if event.event_type == EventType.UNSUBSCRIBED:
        return BounceEvent.Kind.UNSUBSCRIBE
    if event.event_type == EventType.DEFERRED:
        return BounceEvent.Kind.DELAY
    reason = event.reject_reason
    if reason in {RejectReason.INVALID, RejectReason.BOUNCED} and not event.mta_response:
        return BounceEvent.Kind.HARD
    if reason in {RejectReason.BLOCKED, RejectReason.SPAM, RejectReason.TIMED_OUT}:
        return BounceEvent.Kind.SOFT
    if reason == RejectReason.UNSUBSCRIBED:
        return BounceEvent.Kind.UNSUBSCRIBE
    kind, _status = classify_smtp_reply(None, f"{event.mta_response} {event.description}")
    if kind in {BounceEvent.Kind.HARD, BounceEvent.Kind.SOFT}:
        return kind
    # A bounce the ESP gives no detail for: ESPs report soft trouble as
    # "deferred", so a final "bounced" without a reason is a hard bounce.
    return BounceEvent.Kind.HARD if reason in {None, "", RejectReason.OTHER} else kind


def handle_tracking_event(tracking_event_id: int) -> BounceEvent | None:
    """Record one stored event as a bounce or complaint (the worker's side); safe to run twice."""
    from bounces.parser import classify_smtp_reply
    from bounces.services import record_event

    event = TrackingEvent.objects.filter(pk=tracking_event_id, processed_at__isnull=True).first()
    if event is None:
        return None
    kind = kind_for(event)
    _, status = classify_smtp_reply(None, event.mta_response or event.description)
    ref = str(event.metadata.get("postino_ref", "")) if event.metadata else ""
    delivery_id = verp.read_token(ref) if ref else None
    tx_message_id = verp.read_tx_token(ref) if ref else None
    recorded = record_event(
        kind=kind,
        email=event.recipient,
        provider=event.provider,
        event_id=event.event_id,
        status=status or "",
        diagnostic=event.mta_response or event.description,
        feedback_type="abuse" if kind == BounceEvent.Kind.COMPLAINT else "",
        delivery_id=delivery_id,
        tx_message_id=tx_message_id,
        provider_message_id=event.message_id,
    )
    TrackingEvent.objects.filter(pk=tracking_event_id).update(processed_at=timezone.now())
    return recorded
