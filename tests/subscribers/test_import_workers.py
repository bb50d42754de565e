"""Real workers: an import or bulk action whose worker is killed mid-way ends on another, once."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from subscribers import bulk
from subscribers.browse import SubscriberFilter
from subscribers.imports.services import create_import
from subscribers.models import (
    BulkAction,
    ConsentEvent,
    Import,
    MailingList,
    Subscriber,
    Subscription,
)
from tests.delivery.test_worker_control import wait_until
from tests.support.workers import start_beat, start_worker, worker_environment

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROWS = 6_000


def test_an_import_whose_worker_is_killed_resumes_on_another_and_imports_each_row_once(
    clean_redis: None, worker_logs: Path, tmp_path: Path, settings: Any
) -> None:
    import_dir = tmp_path / "imports"
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": import_dir}
    # Small transactions and a short lease, so the kill lands mid-import and
    # the takeover comes within seconds.
    env = worker_environment(
        {"IMPORT_DIR": str(import_dir), "IMPORT_BATCH_ROWS": "100", "IMPORT_LEASE_SECONDS": "3"}
    )
    newsletter = MailingList.objects.create(name="Newsletter")
    text = "email,name,n\n" + "".join(f"p{n}@example.com,P {n},{n}\n" for n in range(ROWS))

    first = start_worker(worker_logs, concurrency=1, env=env)
    beat = start_beat(worker_logs, env=env)
    second = None
    try:
        import_run = create_import(
            source=io.BytesIO(text.encode()), name="people.csv", lists=[newsletter]
        )

        def applied() -> int:
            return Import.objects.values_list("last_row_applied", flat=True).get(pk=import_run.pk)

        wait_until(lambda: applied() > 1_000, what="the import to apply some rows")
        first.kill()
        at_kill = applied()
        assert at_kill < ROWS, "the import finished before the kill"

        second = start_worker(worker_logs, concurrency=1, env=env)
        wait_until(
            lambda: Import.objects.get(pk=import_run.pk).ended,
            timeout=120,
            what="the import to finish on the second worker",
        )
    finally:
        beat.stop()
        if second is not None:
            second.stop()
        first.stop()
    finished = Import.objects.get(pk=import_run.pk)
    assert (finished.status, finished.rows, finished.imported, finished.skipped) == (
        Import.Status.FINISHED,
        ROWS,
        ROWS,
        0,
    )
    assert finished.attempts == 2
    assert Subscriber.objects.count() == ROWS
    assert Subscription.objects.filter(mailing_list=newsletter).count() == ROWS
    # Each subscription was made once, by this import, which is its consent record.
    assert Subscription.objects.filter(import_run=import_run).count() == ROWS
    assert not ConsentEvent.objects.exists()


def test_a_bulk_action_whose_worker_is_killed_resumes_and_changes_each_subscriber_once(
    clean_redis: None, worker_logs: Path
) -> None:
    env = worker_environment({"BULK_BATCH_SIZE": "50", "IMPORT_LEASE_SECONDS": "3"})
    news = MailingList.objects.create(name="News")
    Subscriber.objects.bulk_create(Subscriber(email=f"b{n}@example.com") for n in range(3_000))
    first = start_worker(worker_logs, concurrency=1, env=env)
    beat = start_beat(worker_logs, env=env)
    second = None
    try:
        action = bulk.start(kind="add", filters=SubscriberFilter(), mailing_list=news, actor=None)

        def done() -> int:
            return BulkAction.objects.values_list("done", flat=True).get(pk=action.pk)

        wait_until(lambda: done() >= 500, what="the action to change some subscribers")
        first.kill()
        assert done() < 3_000, "the action finished before the kill"
        second = start_worker(worker_logs, concurrency=1, env=env)
        wait_until(
            lambda: BulkAction.objects.get(pk=action.pk).ended,
            timeout=120,
            what="the action to finish on the second worker",
        )
    finally:
        beat.stop()
        if second is not None:
            second.stop()
        first.stop()
    finished = BulkAction.objects.get(pk=action.pk)
    assert (finished.status, finished.done, finished.changed) == ("finished", 3_000, 3_000)
    assert Subscription.objects.filter(mailing_list=news).count() == 3_000
    assert ConsentEvent.objects.filter(kind="subscribed").count() == 3_000
