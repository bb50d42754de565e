"""Celery tasks for subscribers: thin wrappers that take IDs and call plain functions."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from postino import jobs
from subscribers import bulk, confirmation, exports
from subscribers.imports import run

# Transient failures (server down, 4xx) are tried again this many times, with
# growing delays; after that the staff page offers "Resend confirmation".
MAX_RETRIES = 4
RETRY_BASE_SECONDS = 60


@shared_task(name=jobs.SEND_CONFIRMATIONS, bind=True, max_retries=MAX_RETRIES)
def send_confirmations(self: Any, subscription_ids: list[int]) -> dict[str, list[int]]:
    # Not acks_late: a worker dying mid-batch must not re-send the ones that
    # went out; the staff page shows who was never asked.
    run = confirmation.send_confirmations(subscription_ids)
    if run.retry and self.request.retries < MAX_RETRIES:
        # Only the ids that failed transiently, not the whole batch again.
        raise self.retry(args=(run.retry,), countdown=RETRY_BASE_SECONDS * 2**self.request.retries)
    return {"sent": run.sent, "skipped": run.skipped, "failed": run.failed, "retry": run.retry}


@shared_task(name=jobs.SEND_REMINDERS, bind=True, max_retries=MAX_RETRIES)
def send_reminders(self: Any, subscription_ids: list[int]) -> dict[str, list[int]]:
    run = confirmation.send_confirmations(subscription_ids, reminder=True)
    if run.retry and self.request.retries < MAX_RETRIES:
        raise self.retry(args=(run.retry,), countdown=RETRY_BASE_SECONDS * 2**self.request.retries)
    return {"sent": run.sent, "skipped": run.skipped, "failed": run.failed, "retry": run.retry}


@shared_task(name=jobs.SWEEP_CONFIRMATIONS)
def sweep_confirmations() -> dict[str, int]:
    run = confirmation.sweep()
    return {"reminded": len(run.reminded), "expired": run.expired}


# acks_late: a run resumes after its last committed batch (subscribers.bulk).
@shared_task(name=jobs.RUN_BULK_ACTION, acks_late=True)
def run_bulk_action(action_id: int) -> None:
    bulk.run(action_id)


@shared_task(name=jobs.RESUME_BULK_ACTIONS)
def resume_bulk_actions() -> list[int]:
    # Exports share the round: both are long work a lapsed run leaves behind.
    return bulk.resume_stalled() + exports.resume()


# acks_late: a run that died is simply done again (an export changes nothing).
@shared_task(name=jobs.RUN_EXPORT, acks_late=True)
def run_export(export_id: int) -> None:
    exports.run_export(export_id)


# acks_late: a run is resumable (see subscribers.imports.run), so a message
# given back by a dying worker only makes the next run continue sooner.
@shared_task(name=jobs.RUN_IMPORT, acks_late=True)
def run_import(import_id: int) -> None:
    run.run_import(import_id)


@shared_task(name=jobs.RESUME_IMPORTS)
def resume_imports() -> list[int]:
    run.forget_abandoned()
    return run.resume_stalled()
