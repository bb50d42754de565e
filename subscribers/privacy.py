"""A subscriber's own data rights: everything we hold about them, as JSON, and
erasure that keeps only a hash of the address.

The hash is SHA-256 of the normalised address, with no key: a rotated
``SECRET_KEY`` must not quietly let an erased address back in. It is checked
wherever an address can come back: staff and API adds, signup forms,
imports (``erased_sql``).
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bounces.models import BounceEvent, Suppression
from delivery.models import Delivery
from subscribers import consent, services
from subscribers.models import (
    ErasedAddress,
    ImportProblem,
    Subscriber,
    Subscription,
)
from subscribers.selectors import campaigns_sending_to

SQLITE_HASH_FUNCTION = "postino_sha256"


def address_hash(email: str) -> str:
    return services.erased_hash(email)


def erased_sql(column: str) -> tuple[str, list[Any]]:
    """A condition true when the address in ``column`` was erased (imports)."""
    table = connection.ops.quote_name(ErasedAddress._meta.db_table)
    if connection.vendor == "postgresql":
        digest = f"encode(sha256(convert_to({column}, 'UTF8')), 'hex')"
    else:
        digest = f"{SQLITE_HASH_FUNCTION}({column})"
    return f"EXISTS (SELECT 1 FROM {table} ea WHERE ea.email_hash = {digest})", []  # noqa: S608


def register_sqlite_hash(sender: Any, connection: Any, **_: Any) -> None:
    """``connection_created`` receiver: SQLite has no sha256(), so we lend it ours."""
    if connection.vendor == "sqlite":
        connection.connection.create_function(
            SQLITE_HASH_FUNCTION,
            1,
            lambda text: address_hash(text) if text is not None else None,
            deterministic=True,
        )


def _iso(moment: Any) -> str | None:
    return moment.isoformat() if moment else None


def export_data(subscriber: Subscriber) -> dict[str, Any]:
    """Everything Postino holds about this person, in one JSON document."""
    subscriptions = (
        Subscription.objects.filter(subscriber=subscriber)
        .select_related("mailing_list")
        .order_by("mailing_list__name")
    )
    events = reversed(consent.history(subscriber.pk))
    deliveries = (
        Delivery.objects.filter(subscriber=subscriber).select_related("campaign").order_by("id")
    )
    bounces = BounceEvent.objects.filter(email=subscriber.email).order_by("id")
    suppressions = Suppression.objects.filter(email=subscriber.email).order_by("id")
    return {
        "exported_at": timezone.now().isoformat(),
        "subscriber": {
            "email": subscriber.email,
            "name": subscriber.name,
            "attributes": subscriber.attributes,
            "status": subscriber.status,
            "added_at": _iso(subscriber.created_at),
            "updated_at": _iso(subscriber.updated_at),
        },
        "subscriptions": [
            {
                "list": s.mailing_list.name,
                "status": s.status,
                "subscribed_at": _iso(s.created_at),
                "confirmed_at": _iso(s.confirmed_at),
                "confirmed_how": s.confirmed_via,
                "confirmed_from_ip": s.confirmed_ip,
                "unsubscribed_at": _iso(s.unsubscribed_at),
                "confirmation_sent_at": _iso(s.confirmation_sent_at),
            }
            for s in subscriptions
        ],
        "consent_history": [
            {
                "at": _iso(e.created_at),
                "what": e.kind,
                "how": e.via,
                "list": e.mailing_list.name if e.mailing_list else None,
                "status": e.status or None,
                "ip": e.ip,
                "user_agent": e.user_agent or None,
                "consent_text_version": e.consent_text_version or None,
                "note": e.note or None,
                "reason": e.reason_summary() or None,
            }
            for e in events
        ],
        "messages": [
            {
                "campaign": d.campaign.name,
                "status": d.status,
                "sent_at": _iso(d.sent_at),
                "attempts": d.attempts,
            }
            for d in deliveries
        ],
        "bounces_and_complaints": [
            {
                "at": _iso(b.received_at),
                "kind": b.kind,
                "status": b.status,
                "diagnostic": b.diagnostic,
            }
            for b in bounces
        ],
        "suppressions": [
            {"at": _iso(s.created_at), "reason": s.reason, "lifted_at": _iso(s.lifted_at)}
            for s in suppressions
        ],
    }


class ErasureDeferred(Exception):
    """A campaign is handing their message to a server right now; they are
    unsubscribed already, and the erasure can be asked again in a minute."""


def erase(*, subscriber: Subscriber, origin: consent.Origin) -> None:
    """Delete the person and every trace of their address; keep only its hash.

    Their subscriptions, history, attributes and delivery rows go with the
    subscriber row; bounce reports, suppressions and import reports that
    name the address are scrubbed. Campaign totals drop by them, as when
    staff delete a subscriber.
    """
    email = subscriber.email
    if campaigns_sending_to(subscriber):
        # Workers hold this person's ledger rows: stop the mail now, erase later.
        services.unsubscribe(
            subscriber_id=subscriber.pk, origin=origin, reason="Asked to be erased"
        )
        raise ErasureDeferred(email)
    with transaction.atomic():
        ErasedAddress.objects.get_or_create(
            email_hash=address_hash(email),
            defaults={"erased_at": timezone.now(), "via": origin.via},
        )
        BounceEvent.objects.filter(email=email).update(email="", diagnostic="", subscriber=None)
        Suppression.objects.filter(email=email).delete()
        ImportProblem.objects.filter(value=email).update(value="")
        Subscriber.objects.filter(pk=subscriber.pk).delete()
