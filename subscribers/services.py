"""Writes for lists, subscribers and subscriptions. Views, API and tasks call these."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from postino import jobs
from subscribers import confirmation_template, consent
from subscribers.blocklist import selectors as blocklist_selectors
from subscribers.models import ConsentEvent, ErasedAddress, MailingList, Subscriber, Subscription
from subscribers.selectors import campaigns_sending_to, unfinished_campaigns_of

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

# Subscription ids per confirmation task: an import of thousands into a double
# opt-in list becomes a few dozen tasks, not one per recipient.
CONFIRMATION_BATCH_SIZE = 200


class DuplicateSubscriber(Exception):
    def __init__(self, email: str, existing_id: int | None = None) -> None:
        super().__init__(f"a subscriber with email {email} already exists")
        self.email = email
        self.existing_id = existing_id


class DuplicateList(Exception):
    pass


class SubscriptionStateError(Exception):
    """The subscription is not in a state that allows this (HTTP 409)."""


def normalize_email(email: str) -> str:
    """Trim and lower-case an address; raise ValidationError if it is not one."""
    cleaned = (email or "").strip().lower()
    if not cleaned:
        raise ValidationError("Enter an email address.", code="required")
    validate_email(cleaned)
    return cleaned


def create_list(
    *,
    name: str,
    optin: str = MailingList.OptIn.SINGLE,
    description: str = "",
    confirmation_subject: str = "",
    confirmation_html: str = "",
    public: bool = False,
) -> MailingList:
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["A list needs a name."]
    if optin not in MailingList.OptIn.values:
        errors["optin"] = [f"Opt-in must be one of {', '.join(MailingList.OptIn.values)}."]
    _check_confirmation(confirmation_subject, confirmation_html, errors)
    if errors:
        raise ValidationError(errors)
    if MailingList.objects.filter(name__iexact=name).exists():
        raise DuplicateList(f"a list named {name!r} already exists")
    return MailingList.objects.create(
        name=name,
        optin=optin,
        description=description,
        confirmation_subject=confirmation_subject.strip(),
        confirmation_html=confirmation_html,
        public=public,
    )


def _check_confirmation(subject: str, html: str, errors: dict[str, list[str]]) -> None:
    try:
        confirmation_template.check_template(subject=subject, html=html)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)


ERASED_MESSAGE = "This address asked to be erased from Postino; it cannot be added again."


def blocked_reason(address: str) -> str | None:
    """Why this (normalised) address may not be added, if it may not: the
    blocklist covers it, or its owner had it erased (``subscribers.privacy``)."""
    entry = blocklist_selectors.blocking_entry(address)
    if entry is not None:
        return blocklist_selectors.blocked_message(entry)
    if ErasedAddress.objects.filter(email_hash=erased_hash(address)).exists():
        return ERASED_MESSAGE
    return None


def refuse_blocked(address: str) -> None:
    """A ValidationError on ``email`` when ``blocked_reason`` has one."""
    reason = blocked_reason(address)
    if reason is not None:
        raise ValidationError({"email": reason})


def erased_hash(address: str) -> str:
    # The same digest as subscribers.privacy.address_hash (which imports this module).
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


def create_subscriber(
    *,
    email: str,
    name: str = "",
    attributes: Mapping[str, Any] | None = None,
    lists: Iterable[MailingList] = (),
    preconfirm: bool = False,
    origin: consent.Origin = consent.SYSTEM,
) -> Subscriber:
    try:
        address = normalize_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": exc.messages}) from exc
    refuse_blocked(address)
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
    lists = list(lists)
    if not lists:
        consent.record(
            subscriber_id=subscriber.pk,
            kind=ConsentEvent.Kind.CHANGED,
            origin=origin,
            note="Added, on no list",
        )
    subscribe(subscriber=subscriber, lists=lists, preconfirm=preconfirm, origin=origin)
    return subscriber


def subscribe(
    *,
    subscriber: Subscriber,
    lists: Iterable[MailingList],
    preconfirm: bool = False,
    origin: consent.Origin = consent.SYSTEM,
) -> list[Subscription]:
    """Add a subscriber to lists. Single opt-in lists confirm at once; double
    opt-in lists wait for confirmation unless ``preconfirm`` (the caller vouches).

    Each new unconfirmed subscription gets a confirmation email, sent by a
    task once the caller's transaction commits (see ``request_confirmation``).
    """
    lists = list(lists)
    if lists:
        refuse_blocked(subscriber.email)
    now = timezone.now()
    result = []
    to_confirm = []
    events = []
    for mailing_list in lists:
        single = mailing_list.optin == MailingList.OptIn.SINGLE
        confirmed = preconfirm or single
        status = Subscription.Status.CONFIRMED if confirmed else Subscription.Status.UNCONFIRMED
        via = ""
        if confirmed:
            via = Subscription.ConfirmedVia.SINGLE if single else Subscription.ConfirmedVia.CALLER
        subscription, created = Subscription.objects.get_or_create(
            subscriber=subscriber,
            mailing_list=mailing_list,
            defaults={
                "status": status,
                "confirmed_at": now if confirmed else None,
                "confirmed_via": via,
            },
        )
        if not created and subscription.status == Subscription.Status.UNSUBSCRIBED:
            # Re-subscribing is an explicit act by the subscriber or an admin.
            subscription.status = status
            subscription.confirmed_at = now if confirmed else None
            subscription.confirmed_via = via
            subscription.confirmed_ip = None
            subscription.confirmed_by = None
            subscription.unsubscribed_at = None
            subscription.save(
                update_fields=[
                    "status",
                    "confirmed_at",
                    "confirmed_via",
                    "confirmed_ip",
                    "confirmed_by",
                    "unsubscribed_at",
                    "updated_at",
                ]
            )
            created = True
        if created:
            events.append(
                consent.event(
                    subscriber_id=subscriber.pk,
                    kind=ConsentEvent.Kind.SUBSCRIBED,
                    origin=origin,
                    mailing_list_id=mailing_list.pk,
                    status=status,
                    note=origin.note
                    or ("Vouched for by the caller" if preconfirm and not single else ""),
                )
            )
        if created and not confirmed:
            to_confirm.append(subscription.pk)
        result.append(subscription)
    consent.record_all(events)
    request_confirmation(subscription_ids=to_confirm)
    return result


def unsubscribe(
    *,
    subscriber_id: int,
    list_ids: Iterable[int] | None = None,
    origin: consent.Origin = consent.SYSTEM,
    reason: str = "",
    given: consent.GivenReason = consent.NO_REASON,
) -> int:
    """Unsubscribe from the given lists (all lists when None). Returns rows
    changed; each is written to the consent ledger.

    ``reason`` is our note on why (a complaint, an erasure); ``given`` is the
    reason the person chose and wrote on an unsubscribe page, which campaign
    reports count. Nothing is written when they were on none of the lists, so
    a second click records no second reason.
    """
    qs = Subscription.objects.filter(subscriber_id=subscriber_id).exclude(
        status=Subscription.Status.UNSUBSCRIBED
    )
    if list_ids is not None:
        qs = qs.filter(mailing_list_id__in=list(list_ids))
    now = timezone.now()
    with transaction.atomic():
        # Read and changed under one lock, so the ledger names exactly the
        # subscriptions this call ended.
        ended = list(qs.select_for_update().values_list("pk", "mailing_list_id"))
        changed = Subscription.objects.filter(pk__in=[pk for pk, _ in ended]).update(
            status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
        )
        consent.record_all(
            consent.event(
                subscriber_id=subscriber_id,
                kind=ConsentEvent.Kind.UNSUBSCRIBED,
                origin=origin,
                mailing_list_id=list_id,
                status=Subscription.Status.UNSUBSCRIBED,
                note=reason,
                given=given,
            )
            for _, list_id in ended
        )
    return changed


def set_preferences(
    *,
    subscriber: Subscriber,
    name: str,
    keep_list_ids: Iterable[int],
    origin: consent.Origin = consent.SYSTEM,
) -> None:
    """Apply a subscriber's own choices from the preferences page.

    Lists they are on are kept or left; public lists (``MailingList.public``)
    they tick are joined, confirmed at once: the signed link came to their
    inbox, which is what a confirmation email would prove. No other list can
    be joined from the page.
    """
    keep = set(keep_list_ids)
    with transaction.atomic():
        if name.strip() != subscriber.name:
            subscriber.name = name.strip()
            subscriber.save(update_fields=["name", "updated_at"])
            consent.record(
                subscriber_id=subscriber.pk,
                kind=ConsentEvent.Kind.PREFERENCES,
                origin=origin,
                note="Changed their name",
            )
        current = subscriber.subscriptions.exclude(status=Subscription.Status.UNSUBSCRIBED)
        on = {s.mailing_list_id for s in current}
        leave = [list_id for list_id in on if list_id not in keep]
        if leave:
            unsubscribe(subscriber_id=subscriber.pk, list_ids=leave, origin=origin)
        joining = list(MailingList.objects.filter(public=True, pk__in=keep - on))
        if joining:
            subscribe(
                subscriber=subscriber,
                lists=joining,
                preconfirm=True,
                origin=origin.noting("Joined from the preference centre"),
            )


def request_confirmation(*, subscription_ids: Sequence[int]) -> None:
    """Queue the double opt-in emails for these subscriptions, after commit,
    a batch of ids per task. The task skips any that are confirmed by then."""
    ids = list(subscription_ids)
    for start in range(0, len(ids), CONFIRMATION_BATCH_SIZE):
        jobs.send_confirmations(ids[start : start + CONFIRMATION_BATCH_SIZE])


def confirm_subscription(
    *,
    subscription: Subscription,
    via: Subscription.ConfirmedVia,
    ip: str | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    resubscribe: bool = False,
    origin: consent.Origin | None = None,
) -> bool:
    """Confirm a double opt-in subscription; True if this call confirmed it.

    Idempotent: an already confirmed subscription stays as it was (its first
    consent record is the one that counts). An unsubscribed one is confirmed
    again only with ``resubscribe``, the person's explicit "subscribe me
    again": an old confirmation link must not undo an unsubscribe.
    """
    allowed = [Subscription.Status.UNCONFIRMED]
    if resubscribe:
        allowed.append(Subscription.Status.UNSUBSCRIBED)
    now = timezone.now()
    # A conditional UPDATE: two clicks racing confirm once.
    changed = Subscription.objects.filter(pk=subscription.pk, status__in=allowed).update(
        status=Subscription.Status.CONFIRMED,
        confirmed_at=now,
        confirmed_via=via,
        confirmed_ip=ip,
        confirmed_by=actor if actor is not None and actor.is_authenticated else None,
        unsubscribed_at=None,
        updated_at=now,
    )
    subscription.refresh_from_db()
    if changed:
        if origin is None:
            by_staff = via == Subscription.ConfirmedVia.STAFF
            origin = consent.Origin(
                via=ConsentEvent.Via.ADMIN if by_staff else ConsentEvent.Via.LINK,
                actor=actor,
                ip=ip,
            )
        consent.record(
            subscriber_id=subscription.subscriber_id,
            kind=ConsentEvent.Kind.CONFIRMED,
            origin=origin,
            mailing_list_id=subscription.mailing_list_id,
            status=Subscription.Status.CONFIRMED,
            note="Subscribed again" if resubscribe else "",
        )
    return bool(changed)


def confirm_by_staff(
    *, subscription: Subscription, actor: AbstractBaseUser | AnonymousUser
) -> bool:
    """A staff member vouches for the subscriber's consent; True if it changed.

    Refused for an unsubscribed subscription: only the person can undo that.
    """
    if subscription.status == Subscription.Status.UNSUBSCRIBED:
        raise SubscriptionStateError(
            f"{subscription.subscriber.email} unsubscribed from {subscription.mailing_list.name}; "
            "only they can subscribe again."
        )
    return confirm_subscription(
        subscription=subscription, via=Subscription.ConfirmedVia.STAFF, actor=actor
    )


def resend_confirmation(*, subscription: Subscription) -> None:
    """Send the confirmation email again (after commit) to an unconfirmed subscription."""
    if subscription.status != Subscription.Status.UNCONFIRMED:
        raise SubscriptionStateError(
            f"The subscription to {subscription.mailing_list.name} is "
            f"{subscription.get_status_display().lower()}, not waiting for confirmation."
        )
    request_confirmation(subscription_ids=[subscription.pk])


def resend_confirmations(
    *, subscriber: Subscriber, list_ids: Iterable[int] | None = None
) -> list[Subscription]:
    """Ask again on each of the subscriber's unconfirmed subscriptions (to these
    lists, if given); the ones asked. Refused when none waits for confirmation."""
    waiting = subscriber.subscriptions.filter(status=Subscription.Status.UNCONFIRMED)
    if list_ids is not None:
        waiting = waiting.filter(mailing_list_id__in=list(list_ids))
    found = list(waiting.select_related("mailing_list").order_by("mailing_list_id"))
    if not found:
        raise SubscriptionStateError(
            f"{subscriber.email} has no subscription waiting for confirmation"
            + (" on those lists." if list_ids is not None else ".")
        )
    request_confirmation(subscription_ids=[s.pk for s in found])
    return found


class SubscriberInUse(Exception):
    """The subscriber is being sent to right now; deleting them would race the workers."""


class ListInUse(Exception):
    """A campaign that has not finished yet still needs the list."""


def update_subscriber(
    *,
    subscriber: Subscriber,
    email: str | None = None,
    name: str | None = None,
    attributes: Any = None,
    status: str | None = None,
    lists: Iterable[MailingList] | None = None,
    preconfirm: bool = False,
    origin: consent.Origin = consent.SYSTEM,
) -> Subscriber:
    """Change the fields given; ``None`` keeps a field as it is. Every problem at once.

    ``lists`` is the full set of lists the subscriber should belong to: new ones
    go through :func:`subscribe` (so double opt-in lists ask for confirmation
    unless ``preconfirm``), lists left out are unsubscribed, not deleted, so the
    record of the membership and its end survives.
    """
    errors: dict[str, list[str]] = {}
    address = subscriber.email
    if email is not None:
        try:
            address = normalize_email(email)
        except ValidationError as exc:
            errors["email"] = exc.messages
        else:
            reason = blocked_reason(address) if address != subscriber.email else None
            if reason is not None:
                errors["email"] = [reason]
    if attributes is not None and not isinstance(attributes, Mapping):
        errors["attributes"] = ["Attributes must be a JSON object."]
    if status is not None and status not in Subscriber.Status.values:
        errors["status"] = [f"Status must be one of {', '.join(Subscriber.Status.values)}."]
    if errors:
        raise ValidationError(errors)
    before = (subscriber.email, subscriber.name, subscriber.attributes, subscriber.status)
    if name is not None:
        subscriber.name = name.strip()
    if attributes is not None:
        subscriber.attributes = dict(attributes)
    if status is not None:
        subscriber.status = status
    subscriber.email = address
    with transaction.atomic():
        try:
            with transaction.atomic():
                subscriber.save()
        except IntegrityError as exc:
            # The unique email is the only constraint a save can break; the
            # index, not a prior lookup, decides under concurrency.
            subscriber.refresh_from_db()
            existing = Subscriber.objects.filter(email=address).values_list("id", flat=True)
            raise DuplicateSubscriber(address, existing.first()) from exc
        _record_changes(subscriber, before, origin)
        if lists is not None:
            _set_memberships(subscriber, list(lists), preconfirm=preconfirm, origin=origin)
    return subscriber


def _record_changes(
    subscriber: Subscriber, before: tuple[str, str, Any, str], origin: consent.Origin
) -> None:
    email, name, attributes, status = before
    changed = [
        label
        for label, old, new in (
            ("email", email, subscriber.email),
            ("name", name, subscriber.name),
            ("attributes", attributes, subscriber.attributes),
        )
        if old != new
    ]
    if changed:
        consent.record(
            subscriber_id=subscriber.pk,
            kind=ConsentEvent.Kind.CHANGED,
            origin=origin,
            note="Changed "
            + ", ".join(changed)
            + (f" (was {email})" if email != subscriber.email else ""),
        )
    if status != subscriber.status:
        blocked = subscriber.status == Subscriber.Status.BLOCKLISTED
        consent.record(
            subscriber_id=subscriber.pk,
            kind=ConsentEvent.Kind.BLOCKLISTED if blocked else ConsentEvent.Kind.CHANGED,
            origin=origin,
            status=subscriber.status,
            note="" if blocked else "Enabled again",
        )


def _set_memberships(
    subscriber: Subscriber, wanted: list[MailingList], *, preconfirm: bool, origin: consent.Origin
) -> None:
    active = set(
        subscriber.subscriptions.exclude(status=Subscription.Status.UNSUBSCRIBED).values_list(
            "mailing_list_id", flat=True
        )
    )
    wanted_ids = {mailing_list.pk for mailing_list in wanted}
    joining = [mailing_list for mailing_list in wanted if mailing_list.pk not in active]
    if joining:
        subscribe(subscriber=subscriber, lists=joining, preconfirm=preconfirm, origin=origin)
    leaving = active - wanted_ids
    if leaving:
        unsubscribe(subscriber_id=subscriber.pk, list_ids=leaving, origin=origin)


def delete_subscriber(*, subscriber: Subscriber) -> None:
    """Delete a subscriber, their subscriptions and their delivery rows.

    Bounce reports keep the address but lose the link; suppressions are by
    address and stay, so a re-added address is still suppressed. Refused while
    a running or paused campaign still has a message queued for them: the rows
    workers hold must not vanish under them.
    """
    with transaction.atomic():
        locked = Subscriber.objects.select_for_update().filter(pk=subscriber.pk).first()
        if locked is None:
            return
        sending = campaigns_sending_to(locked)
        if sending:
            names = ", ".join(f"“{name}”" for name in sending)
            raise SubscriberInUse(
                f"{locked.email} still has messages queued in {names}; "
                "wait for the campaign to finish or cancel it, then delete"
            )
        locked.delete()


def update_list(
    *,
    mailing_list: MailingList,
    name: str | None = None,
    description: str | None = None,
    optin: str | None = None,
    confirmation_subject: str | None = None,
    confirmation_html: str | None = None,
    public: bool | None = None,
) -> MailingList:
    """Change the fields given; ``None`` keeps a field. Names are unique, ignoring case."""
    errors: dict[str, list[str]] = {}
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = ["A list needs a name."]
    if optin is not None and optin not in MailingList.OptIn.values:
        errors["optin"] = [f"Opt-in must be one of {', '.join(MailingList.OptIn.values)}."]
    subject = (
        mailing_list.confirmation_subject if confirmation_subject is None else confirmation_subject
    )
    html = mailing_list.confirmation_html if confirmation_html is None else confirmation_html
    _check_confirmation(subject, html, errors)
    if errors:
        raise ValidationError(errors)
    mailing_list.confirmation_subject = subject.strip()
    mailing_list.confirmation_html = html
    if public is not None:
        mailing_list.public = public
    if name is not None:
        clash = MailingList.objects.filter(name__iexact=name).exclude(pk=mailing_list.pk)
        if clash.exists():
            raise DuplicateList(f"a list named {name!r} already exists")
        mailing_list.name = name
    if description is not None:
        mailing_list.description = description
    if optin is not None:
        # Existing subscriptions keep their state: switching to double opt-in
        # does not unconfirm people who already joined.
        mailing_list.optin = optin
    try:
        with transaction.atomic():
            mailing_list.save()
    except IntegrityError as exc:
        raise DuplicateList(f"a list named {mailing_list.name!r} already exists") from exc
    return mailing_list


def delete_list(*, mailing_list: MailingList) -> None:
    """Delete a list and its subscriptions; subscribers stay.

    Campaigns that targeted it lose it from their lists; sent campaigns keep
    their ledger and figures (the ledger is by subscriber, not by list). Refused
    while a scheduled, running or paused campaign targets it.
    """
    with transaction.atomic():
        locked = MailingList.objects.select_for_update().filter(pk=mailing_list.pk).first()
        if locked is None:
            return
        waiting = unfinished_campaigns_of(locked)
        if waiting:
            names = ", ".join(f"“{name}”" for name in waiting)
            raise ListInUse(
                f"the list “{locked.name}” is used by {names}, which has not finished; "
                "cancel it or wait for it to finish, then delete the list"
            )
        locked.delete()
