"""What the code queued, without a broker: the ``queued_jobs`` fixture.

Everything enqueues through ``postino.jobs``, whose functions publish after
commit through ``postino.jobs.publish``. The fixture replaces that one
function, so a test sees each job once its transaction committed (with
``django_capture_on_commit_callbacks`` inside a test's transaction), by task
name and arguments, exactly as a worker would receive them. Tests that need
the real message on the broker (its headers, its queue) leave it alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from postino import jobs


@dataclass(frozen=True, slots=True)
class QueuedJob:
    name: str
    # Any: each job's arguments are what its task takes (ids, lists of ids).
    args: tuple[Any, ...]
    countdown: float | None = None


class QueuedJobs(list[QueuedJob]):
    def of(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of each job queued under this task name, in order."""
        return [job.args for job in self if job.name == name]


@pytest.fixture
def queued_jobs(monkeypatch: pytest.MonkeyPatch) -> QueuedJobs:
    queued = QueuedJobs()

    def record(name: str, args: tuple[object, ...], countdown: float | None = None) -> None:
        queued.append(QueuedJob(name, args, countdown))

    monkeypatch.setattr(jobs, "publish", record)
    return queued
