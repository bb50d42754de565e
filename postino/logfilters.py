"""Logging filters. A leaf module: ``settings.LOGGING`` names these by path.

Beat sends a tick every few seconds and a heartbeat every 15, and Celery logs
each one three times (scheduled, received, succeeded) at INFO: a third of
``make run``'s output, burying campaign starts, finishes and errors. Those
lines are demoted to DEBUG here, where ``LOG_LEVEL=DEBUG`` brings them back.
"""

from __future__ import annotations

import logging

# The periodic tasks registered in postino/celery.py whose every run is routine;
# anything worth knowing about them (reclaimed leases, failures) has its own log line.
ROUTINE_TASKS = frozenset(
    {
        "delivery.tasks.tick",
        "postino.tasks.heartbeat",
        "bounces.tasks.poll_mailboxes",
        "subscribers.tasks.resume_imports",
        "subscribers.tasks.sweep_confirmations",
        "subscribers.tasks.resume_bulk_actions",
    }
)


def _is_routine(record: logging.LogRecord) -> bool:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        return False
    return any(task in message for task in ROUTINE_TASKS)


class RoutineTasksAtDebug(logging.Filter):
    """Demote Celery's per-run INFO lines about routine periodic tasks to DEBUG.

    Attached to the loggers that write them (``celery.beat``, ``celery.worker.strategy``,
    ``celery.app.trace``). Warnings and errors about those tasks pass unchanged.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO or not _is_routine(record):
            return True
        record.levelno = logging.DEBUG
        record.levelname = logging.getLevelName(logging.DEBUG)
        # The logger let the record through at INFO; show it only where DEBUG is on.
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)
