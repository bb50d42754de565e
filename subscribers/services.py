"""Writes for lists, subscribers and subscriptions. Views, API and tasks call these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from subscribers.models import MailingList, Subscriber, Subscription


class DuplicateSubscriber(Exception):
    def __init__(self, email: str, existing_id: int | None = None) -> None:
        super().__init__(f"a subscriber with email {email} already exists")
        self.email = email
        self.existing_id = existing_id


class DuplicateList(Exception):
    pass


def normalize_email(email: str) -> str:
    """Trim and lower-case an address; raise ValidationError if it is not one."""
    cleaned = (email or "").strip().lower()
    if not cleaned:
        raise ValidationError("Enter an email address.", code="required")
    validate_email(cleaned)
    return cleaned


def create_list(
    *, name: str, optin: str = MailingList.OptIn.SINGLE, description: str = ""
) -> MailingList:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A list needs a name."})
    if optin not in MailingList.OptIn.values:
        raise ValidationError(
            {"optin": f"Opt-in must be one of {', '.join(MailingList.OptIn.values)}."}
        )
    if MailingList.objects.filter(name__iexact=name).exists():
        raise DuplicateList(f"a list named {name!r} already exists")
    return MailingList.objects.create(name=name, optin=optin, description=description)


def create_subscriber(
    *,
    email: str,
    name: str = "",
    attributes: Mapping[str, Any] | None = None,
    lists: Iterable[MailingList] = (),
    preconfirm: bool = False,
) -> Subscriber:
    try:
        address = normalize_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    if attributes is not None and not isinstance(attributes, Mapping):
        raise ValidationError({"attributes": "Attributes must be a JSON object."})
    try:
        with transaction.atomic():
            subscriber = Subscriber.objects.create(
                email=address, name=name.strip(), attributes=dict(attributes or {})
            )
    except IntegrityError as exc:
        existing = Subscriber.objects.filter(email=address).values_list("id", flat=True).first()
        raise DuplicateSubscriber(address, existing) from exc
    subscribe(subscriber=subscriber, lists=lists, preconfirm=preconfirm)
    return subscriber


def subscribe(
    *, subscriber: Subscriber, lists: Iterable[MailingList], preconfirm: bool = False
) -> list[Subscription]:
    """Add a subscriber to lists. Single opt-in lists confirm at once; double
    opt-in lists wait for confirmation unless ``preconfirm`` (the caller vouches)."""
    now = timezone.now()
    result = []
    for mailing_list in lists:
        confirmed = preconfirm or mailing_list.optin == MailingList.OptIn.SINGLE
        status = Subscription.Status.CONFIRMED if confirmed else Subscription.Status.UNCONFIRMED
        subscription, created = Subscription.objects.get_or_create(
            subscriber=subscriber,
            mailing_list=mailing_list,
            defaults={"status": status, "confirmed_at": now if confirmed else None},
        )
        if not created and subscription.status == Subscription.Status.UNSUBSCRIBED:
            # Re-subscribing is an explicit act by the subscriber or an admin.
            subscription.status = status
            subscription.confirmed_at = now if confirmed else None
            subscription.unsubscribed_at = None
            subscription.save(
                update_fields=["status", "confirmed_at", "unsubscribed_at", "updated_at"]
            )
        result.append(subscription)
    return result


def unsubscribe(*, subscriber_id: int, list_ids: Iterable[int] | None = None) -> int:
    """Unsubscribe from the given lists (all lists when None). Returns rows changed."""
    qs = Subscription.objects.filter(subscriber_id=subscriber_id).exclude(
        status=Subscription.Status.UNSUBSCRIBED
    )
    if list_ids is not None:
        qs = qs.filter(mailing_list_id__in=list(list_ids))
    return qs.update(
        status=Subscription.Status.UNSUBSCRIBED,
        unsubscribed_at=timezone.now(),
        updated_at=timezone.now(),
    )


def set_preferences(*, subscriber: Subscriber, name: str, keep_list_ids: Iterable[int]) -> None:
    """Apply a subscriber's own choices from the preferences page.

    Only lists the subscriber already belongs to can be kept or left; the page
    cannot be used to join arbitrary lists.
    """
    keep = set(keep_list_ids)
    with transaction.atomic():
        if name.strip() != subscriber.name:
            subscriber.name = name.strip()
            subscriber.save(update_fields=["name", "updated_at"])
        current = subscriber.subscriptions.exclude(status=Subscription.Status.UNSUBSCRIBED)
        leave = [s.mailing_list_id for s in current if s.mailing_list_id not in keep]
        if leave:
            unsubscribe(subscriber_id=subscriber.pk, list_ids=leave)
