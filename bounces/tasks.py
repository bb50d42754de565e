"""Celery tasks for bounces: thin wrappers that take IDs and call plain functions."""

from __future__ import annotations

from celery import shared_task

from bounces import inbound, mailbox, webhooks
from postino import jobs


@shared_task(name=jobs.POLL_MAILBOXES)
def poll_mailboxes() -> int:
    """Periodic: one poll task per enabled mailbox (a handful, never per message)."""
    ids = mailbox.enabled_mailbox_ids()
    for mailbox_id in ids:
        jobs.poll_mailbox(mailbox_id)
    return len(ids)


@shared_task(name=jobs.POLL_MAILBOX)
def poll_mailbox(mailbox_id: int) -> dict[str, object]:
    # A mailbox disabled after the fan-out was queued is left alone.
    if not mailbox.is_enabled(mailbox_id):
        return {"skipped": True}
    # The per-mailbox Redis lock makes an overlapping poll (a slow mailbox, a
    # re-delivered task) a no-op instead of a second reader of the same messages.
    result = mailbox.poll_mailbox_exclusively(mailbox_id)
    return {
        "fetched": result.fetched,
        "processed": result.processed,
        "failed": result.failed,
        "error": result.error,
        "skipped": result.skipped,
    }


# acks_late: handling an event or a message twice is a no-op (each marks its
# row processed, and the handlers skip processed rows).
@shared_task(name=jobs.PROCESS_TRACKING_EVENT, acks_late=True)
def process_tracking_event(tracking_event_id: int) -> None:
    webhooks.handle_tracking_event(tracking_event_id)


@shared_task(name=jobs.PROCESS_INBOUND, acks_late=True)
def process_inbound(message_id: int) -> None:
    inbound.handle_inbound(message_id)
