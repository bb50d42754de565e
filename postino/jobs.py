"""Queueing background work: the one way code outside the tasks modules enqueues a job.

Services, the send pipeline, views and webhooks call one function per job
here, with IDs only. Each publishes the task message by its registered name
after the current transaction commits (at once when there is none), so a
worker never looks for rows that are not committed yet, or that a rollback
took back. Publishing by name means nothing imports a tasks module: the web
process never loads the worker's code, and a task module may import whatever
it wraps without an import cycle.

The names are the tasks' registered names and live only here (the tasks
modules and the beat schedule use these constants). Changing one strands the
messages already queued under the old name: a worker drops those as unknown.
"""

from __future__ import annotations

from collections.abc import Sequence

from celery import current_app
from django.db import transaction

DISPATCH_CAMPAIGN = "delivery.tasks.dispatch_campaign"
SEND_CHUNK = "delivery.tasks.send_chunk"
SEND_TEST_MESSAGES = "delivery.tasks.send_test_messages"
SEND_CONFIRMATIONS = "subscribers.tasks.send_confirmations"
SEND_REMINDERS = "subscribers.tasks.send_reminders"
RUN_IMPORT = "subscribers.tasks.run_import"
RUN_BULK_ACTION = "subscribers.tasks.run_bulk_action"
RUN_EXPORT = "subscribers.tasks.run_export"
POLL_MAILBOX = "bounces.tasks.poll_mailbox"
PROCESS_TRACKING_EVENT = "bounces.process_tracking_event"
PROCESS_INBOUND = "bounces.process_inbound"
# On their own queue (TX_QUEUE), which only the transactional workers consume.
DRAIN_TRANSACTIONAL = "transactional.tasks.drain"
TX_QUEUE = "postino-tx"

# Started by beat (postino.celery), never by our code.
TICK = "delivery.tasks.tick"
HEARTBEAT = "postino.tasks.heartbeat"
POLL_MAILBOXES = "bounces.tasks.poll_mailboxes"
RESUME_IMPORTS = "subscribers.tasks.resume_imports"
SWEEP_CONFIRMATIONS = "subscribers.tasks.sweep_confirmations"
RESUME_BULK_ACTIONS = "subscribers.tasks.resume_bulk_actions"
INGEST_TRACKING = "tracking.tasks.ingest_tracking"
FORGET_TRACKING_EVENTS = "tracking.tasks.forget_tracking_events"
TX_TICK = "transactional.tasks.tick"
FORGET_IDEMPOTENCY_KEYS = "transactional.tasks.forget_idempotency_keys"
FORGET_TX_MESSAGES = "transactional.tasks.forget_messages"


def publish(name: str, args: tuple[object, ...], countdown: float | None = None) -> None:
    """Send one task message now (run ``countdown`` seconds later, if given);
    tests replace this to see what was queued.

    ``current_app`` is our app in every thread: ``postino.celery`` makes it the
    default, so a publish from a thread pool (the bounce listener's) reaches
    our broker too. It is not imported from there: that module imports the
    names above.
    """
    current_app.send_task(name, args=args, countdown=countdown)


def _after_commit(name: str, *args: object, countdown: float | None = None) -> None:
    # ``publish`` is looked up when the callback runs, so a test's replacement
    # also sees jobs queued before it was installed but committed after.
    if countdown is None:
        transaction.on_commit(lambda: publish(name, args))
    else:
        transaction.on_commit(lambda: publish(name, args, countdown))


def dispatch_campaign(campaign_id: int) -> None:
    """Start a running campaign's chunk tasks."""
    _after_commit(DISPATCH_CAMPAIGN, campaign_id)


def send_chunk(campaign_id: int) -> None:
    """Claim and send one more chunk of the campaign."""
    _after_commit(SEND_CHUNK, campaign_id)


def send_chunk_later(campaign_id: int, seconds: float) -> None:
    """Claim and send the campaign's next chunk in ``seconds`` (rows due then)."""
    _after_commit(SEND_CHUNK, campaign_id, countdown=seconds)


def send_test_messages(campaign_id: int, emails: Sequence[str]) -> None:
    """Send the campaign to a few addresses, outside the ledger."""
    _after_commit(SEND_TEST_MESSAGES, campaign_id, list(emails))


def send_confirmations(subscription_ids: Sequence[int]) -> None:
    """Ask these subscriptions' subscribers to confirm (one batch, one task)."""
    _after_commit(SEND_CONFIRMATIONS, list(subscription_ids))


def run_export(export_id: int) -> None:
    _after_commit(RUN_EXPORT, export_id)


def run_bulk_action(action_id: int) -> None:
    _after_commit(RUN_BULK_ACTION, action_id)


def send_reminders(subscription_ids: Sequence[int]) -> None:
    """The one reminder to confirm, for these still-unconfirmed subscriptions."""
    _after_commit(SEND_REMINDERS, list(subscription_ids))


def poll_mailbox(mailbox_id: int) -> None:
    """Read one bounce mailbox now."""
    _after_commit(POLL_MAILBOX, mailbox_id)


def process_tracking_event(tracking_event_id: int) -> None:
    """Act on one stored ESP tracking event."""
    _after_commit(PROCESS_TRACKING_EVENT, tracking_event_id)


def process_inbound(message_id: int) -> None:
    """Parse and act on one message the bounce server stored."""
    _after_commit(PROCESS_INBOUND, message_id)


def drain_transactional() -> None:
    """Send the due transactional messages (``transactional.wake`` decides when)."""
    _after_commit(DRAIN_TRANSACTIONAL)


def run_import(import_id: int) -> None:
    """Read and apply (or only check) one subscriber import."""
    _after_commit(RUN_IMPORT, import_id)
