"""Ticks, heartbeats and their beat schedule are DEBUG lines; campaign news stays at INFO.

The lines come from the Celery functions that write them, through the loggers
``settings.LOGGING`` configures, as in ``make run``'s worker and beat.
"""

from __future__ import annotations

import logging

import pytest
from celery.app import trace
from celery.worker import strategy

# Celery's modules are untyped here; these are the loggers their functions write to.
BEAT_LOGGER = logging.getLogger("celery.beat")
TRACE_LOGGER = logging.getLogger("celery.app.trace")

ROUTINE = [
    ("delivery tick", "delivery.tasks.tick"),
    ("heartbeat", "postino.tasks.heartbeat"),
    ("bounce mailboxes", "bounces.tasks.poll_mailboxes"),
]


def _log_a_run(entry: str, task: str) -> None:
    """What beat and the worker log for one run of a periodic task."""
    BEAT_LOGGER.info("Scheduler: Sending due task %s (%s)", entry, task)
    context = {"id": "abc", "name": task, "args": "()", "kwargs": "{}", "eta": None}
    strategy.logger.info(trace.LOG_RECEIVED, context, extra={"data": context})
    trace.info(
        trace.LOG_SUCCESS, {"id": "abc", "name": task, "runtime": 0.01, "return_value": None}
    )


@pytest.mark.parametrize(("entry", "task"), ROUTINE)
def test_routine_runs_are_not_logged_at_info(
    caplog: pytest.LogCaptureFixture, entry: str, task: str
) -> None:
    caplog.set_level(logging.INFO)
    _log_a_run(entry, task)
    assert [r.getMessage() for r in caplog.records] == []


def test_routine_runs_are_there_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _log_a_run("delivery tick", "delivery.tasks.tick")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert len(lines) == 3
    assert {level for level, _ in lines} == {"DEBUG"}
    assert all("delivery.tasks.tick" in message for _, message in lines)


def test_campaign_work_and_failures_stay_visible(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    _log_a_run("-", "delivery.tasks.send_chunk")
    TRACE_LOGGER.error("Task delivery.tasks.tick[abc] raised unexpected: RuntimeError()")
    BEAT_LOGGER.warning("Scheduler: heartbeat entry is late")
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in lines] == ["INFO", "INFO", "INFO", "ERROR", "WARNING"]
    assert "delivery.tasks.send_chunk" in lines[2][1]
