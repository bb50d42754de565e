"""Bulk actions: one change to every subscriber a filter matches, in a worker.

The worker walks the matches by id, ``BULK_BATCH_SIZE`` at a time; each batch is a few
set-based statements and one commit that also moves ``last_id`` and the
counts. A run holds the action by a token in ``owner`` with a heartbeat; a
lapsed one is taken over (``resume_stalled``), and picks up after
``last_id``, so nobody is changed twice and nobody is skipped. Cancelling
stops between batches.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery
from postino import jobs
from postino.actors import signed_in
from subscribers import consent, leases, services
from subscribers.blocklist import rules as blocklist_rules
from subscribers.browse import SubscriberFilter, count_matches, filtered_subscribers
from subscribers.models import BulkAction, ConsentEvent, MailingList, Subscriber, Subscription

log = logging.getLogger(__name__)

Kind = BulkAction.Kind


def batch_size() -> int:
    return int(settings.POSTINO["BULK_BATCH_SIZE"])


def lease_seconds() -> int:
    # The same lease as imports: beat looks for lapsed ones at half of it.
    return int(settings.POSTINO["IMPORT_LEASE_SECONDS"])


class BulkActionStateError(Exception):
    """The action has ended; it can no longer be cancelled."""


def start(
    *, kind: str, filters: SubscriberFilter, mailing_list: MailingList | None, actor: Any
) -> BulkAction:
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(Kind.values)}."})
    if kind in (Kind.ADD_TO_LIST, Kind.REMOVE_FROM_LIST) and mailing_list is None:
        raise ValidationError({"mailing_list": "Choose the list."})
    total = count_matches(filtered_subscribers(filters))
    if total.value == 0:
        raise ValidationError({"kind": "No subscriber matches these filters."})
    action = BulkAction.objects.create(
        kind=kind,
        filters=filters.as_dict(),
        mailing_list=mailing_list if kind in (Kind.ADD_TO_LIST, Kind.REMOVE_FROM_LIST) else None,
        total=total.value,
        created_by=signed_in(actor),
    )
    jobs.run_bulk_action(action.pk)
    return action


def cancel(*, action: BulkAction) -> None:
    if action.ended:
        raise BulkActionStateError(f"the action is {action.status} already")
    BulkAction.objects.filter(pk=action.pk).update(cancel_requested=True)
    BulkAction.objects.filter(pk=action.pk, status=BulkAction.Status.QUEUED).update(
        status=BulkAction.Status.CANCELLED, finished_at=timezone.now()
    )


def run(action_id: int) -> None:
    token = leases.claim(BulkAction, action_id, lease_seconds=lease_seconds())
    if token is None:
        return
    action = BulkAction.objects.select_related("mailing_list", "created_by").get(pk=action_id)
    filters = SubscriberFilter.from_dict(action.filters)
    origin = consent.Origin(via=ConsentEvent.Via.ADMIN, actor=action.created_by).noting(
        f"Bulk action #{action.pk}"
    )
    try:
        while True:
            if BulkAction.objects.filter(pk=action_id, cancel_requested=True).exists():
                _end(action_id, token, BulkAction.Status.CANCELLED)
                return
            ids = list(
                filtered_subscribers(filters)
                .filter(pk__gt=action.last_id)
                .values_list("pk", flat=True)[: batch_size()]
            )
            if not ids:
                _end(action_id, token, BulkAction.Status.FINISHED)
                return
            with transaction.atomic():
                changed, skipped = _apply(action, ids, origin)
                moved = BulkAction.objects.filter(pk=action_id, owner=token).update(
                    last_id=ids[-1],
                    done=action.done + len(ids),
                    changed=action.changed + changed,
                    skipped=action.skipped + skipped,
                    heartbeat_at=timezone.now(),
                )
                if not moved:
                    # Another run took over: this batch must not count.
                    transaction.set_rollback(True)
                    return
            action.last_id, action.done = ids[-1], action.done + len(ids)
            action.changed, action.skipped = action.changed + changed, action.skipped + skipped
    except Exception as exc:
        log.exception("bulk action %s failed", action_id)
        _end(action_id, token, BulkAction.Status.FAILED, error=str(exc)[:2000])


def _end(action_id: int, token: str, status: str, error: str = "") -> None:
    BulkAction.objects.filter(pk=action_id, owner=token).update(
        status=status, owner="", error=error, finished_at=timezone.now()
    )


def resume_stalled() -> list[int]:
    ids = leases.stalled(BulkAction, lease_seconds=lease_seconds(), queued_since="created_at")
    for action_id in ids:
        jobs.run_bulk_action(action_id)
    return ids


def _apply(action: BulkAction, ids: list[int], origin: consent.Origin) -> tuple[int, int]:
    """Change one batch; (changed, skipped) of these subscribers."""
    if action.kind == Kind.ADD_TO_LIST:
        assert action.mailing_list is not None
        return _add(action.mailing_list, ids, origin)
    if action.kind == Kind.REMOVE_FROM_LIST:
        assert action.mailing_list is not None
        return _remove(action.mailing_list, ids, origin)
    if action.kind == Kind.BLOCKLIST:
        return _blocklist(ids, origin)
    return _delete(ids)


def _not_blocked() -> RawSQL:
    column = f"{connection.ops.quote_name(Subscriber._meta.db_table)}.email"
    sql, params = blocklist_rules.blocked_sql(column)
    return RawSQL(f"NOT {sql}", params, output_field=BooleanField())  # noqa: S611


def _add(mailing_list: MailingList, ids: list[int], origin: consent.Origin) -> tuple[int, int]:
    # Never resubscribes anyone who left the list, nor touches the blocked.
    already = Subscription.objects.filter(subscriber_id__in=ids, mailing_list=mailing_list)
    candidates = list(
        Subscriber.objects.filter(pk__in=ids, status=Subscriber.Status.ENABLED)
        .exclude(pk__in=already.values("subscriber_id"))
        .filter(_not_blocked())
        .values_list("pk", flat=True)
    )
    single = mailing_list.optin == MailingList.OptIn.SINGLE
    now = timezone.now()
    status = Subscription.Status.CONFIRMED if single else Subscription.Status.UNCONFIRMED
    created = Subscription.objects.bulk_create(
        [
            Subscription(
                subscriber_id=pk,
                mailing_list=mailing_list,
                status=status,
                confirmed_at=now if single else None,
                confirmed_via=Subscription.ConfirmedVia.SINGLE if single else "",
            )
            for pk in candidates
        ]
    )
    consent.record_all(
        consent.event(
            subscriber_id=pk,
            kind=ConsentEvent.Kind.SUBSCRIBED,
            origin=origin,
            mailing_list_id=mailing_list.pk,
            status=status,
        )
        for pk in candidates
    )
    if not single:
        services.request_confirmation(subscription_ids=[s.pk for s in created if s.pk])
    return len(candidates), len(ids) - len(candidates)


def _remove(mailing_list: MailingList, ids: list[int], origin: consent.Origin) -> tuple[int, int]:
    rows = Subscription.objects.filter(subscriber_id__in=ids, mailing_list=mailing_list).exclude(
        status=Subscription.Status.UNSUBSCRIBED
    )
    ended = list(rows.select_for_update().values_list("pk", "subscriber_id"))
    now = timezone.now()
    Subscription.objects.filter(pk__in=[pk for pk, _ in ended]).update(
        status=Subscription.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
    )
    consent.record_all(
        consent.event(
            subscriber_id=subscriber_id,
            kind=ConsentEvent.Kind.UNSUBSCRIBED,
            origin=origin,
            mailing_list_id=mailing_list.pk,
            status=Subscription.Status.UNSUBSCRIBED,
        )
        for _, subscriber_id in ended
    )
    return len(ended), len(ids) - len(ended)


def _blocklist(ids: list[int], origin: consent.Origin) -> tuple[int, int]:
    rows = list(
        Subscriber.objects.filter(pk__in=ids)
        .exclude(status=Subscriber.Status.BLOCKLISTED)
        .values_list("pk", flat=True)
    )
    Subscriber.objects.filter(pk__in=rows).update(
        status=Subscriber.Status.BLOCKLISTED, updated_at=timezone.now()
    )
    consent.record_all(
        consent.event(
            subscriber_id=pk,
            kind=ConsentEvent.Kind.BLOCKLISTED,
            origin=origin,
            status=Subscriber.Status.BLOCKLISTED,
        )
        for pk in rows
    )
    return len(rows), len(ids) - len(rows)


def _delete(ids: list[int]) -> tuple[int, int]:
    # Workers hold the ledger rows of a running campaign: those people wait.
    sending = set(
        Delivery.objects.filter(
            subscriber_id__in=ids,
            campaign__status__in=[Campaign.Status.RUNNING, Campaign.Status.PAUSED],
            status__in=Delivery.OPEN_STATUSES,
        ).values_list("subscriber_id", flat=True)
    )
    deletable = [pk for pk in ids if pk not in sending]
    Subscriber.objects.filter(pk__in=deletable).delete()
    return len(deletable), len(sending)
