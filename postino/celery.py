"""The Celery app. `celery -A postino worker` consumes every queue we use."""

from __future__ import annotations

import os

from celery import Celery

from postino import jobs
from postino.worker_heartbeat import WorkerHeartbeat

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")

app = Celery("postino")
# The default in every thread, not only the importing one: ``postino.jobs``
# publishes through ``current_app``, also from threads this one did not start.
app.set_default()
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Each worker's main process publishes its own heartbeat (see worker_heartbeat).
app.steps["worker"].add(WorkerHeartbeat)


@app.on_after_finalize.connect
def _schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from django.conf import settings

    tick = float(settings.POSTINO["TICK_SECONDS"])
    sender.add_periodic_task(tick, sender.signature(jobs.TICK), name="delivery tick")
    sender.add_periodic_task(tick, sender.signature(jobs.TX_TICK), name="transactional tick")
    sender.add_periodic_task(
        3600.0, sender.signature(jobs.FORGET_IDEMPOTENCY_KEYS), name="forget idempotency keys"
    )
    sender.add_periodic_task(
        3600.0, sender.signature(jobs.FORGET_TX_MESSAGES), name="forget old transactional mail"
    )
    sender.add_periodic_task(15.0, sender.signature(jobs.HEARTBEAT), name="heartbeat")
    # Half the lease: a dead run's import waits at most one and a half leases.
    sender.add_periodic_task(
        settings.POSTINO["IMPORT_LEASE_SECONDS"] / 2,
        sender.signature(jobs.RESUME_IMPORTS),
        name="resume stalled imports",
    )
    sender.add_periodic_task(
        settings.POSTINO["IMPORT_LEASE_SECONDS"] / 2,
        sender.signature(jobs.RESUME_BULK_ACTIONS),
        name="resume stalled bulk actions",
    )
    sender.add_periodic_task(
        float(settings.POSTINO["CONFIRMATION_SWEEP_SECONDS"]),
        sender.signature(jobs.SWEEP_CONFIRMATIONS),
        name="confirmation reminders and expiry",
    )
    sender.add_periodic_task(
        float(settings.POSTINO["TRACKING_INGEST_SECONDS"]),
        sender.signature(jobs.INGEST_TRACKING),
        name="ingest opens and clicks",
    )
    sender.add_periodic_task(
        3600.0, sender.signature(jobs.FORGET_TRACKING_EVENTS), name="forget old tracking events"
    )
    sender.add_periodic_task(
        float(settings.POSTINO["BOUNCE_POLL_SECONDS"]),
        sender.signature(jobs.POLL_MAILBOXES),
        name="bounce mailboxes",
    )
