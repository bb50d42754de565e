"""Applying an import in batches, and resuming exactly what is left."""

from __future__ import annotations

import io
import itertools
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from subscribers.imports import run
from subscribers.imports.services import create_import
from subscribers.models import (
    BlocklistEntry,
    Import,
    ImportBatch,
    MailingList,
    Subscriber,
    Subscription,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _small_batches(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {
        **settings.POSTINO,
        "IMPORT_DIR": tmp_path / "imports",
        "IMPORT_BATCH_ROWS": 70,
    }


def csv(rows: int) -> bytes:
    return ("email,name\n" + "".join(f"p{n}@example.com,P{n}\n" for n in range(rows))).encode()


def test_batches_import_every_row_once_and_leave_no_gap() -> None:
    news = MailingList.objects.create(name="News")
    imported = create_import(source=io.BytesIO(csv(1000)), name="p.csv", lists=[news])
    run.run_import(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.imported, imported.skipped) == ("finished", 1000, 0)
    assert imported.last_row_applied == 1001
    assert Subscription.objects.filter(mailing_list=news).count() == 1000
    assert Subscription.objects.filter(import_run=imported).count() == 1000
    ranges = list(ImportBatch.objects.order_by("first_row").values_list("first_row", "end_row"))
    assert ranges[0] == (2, 72) and ranges[-1][1] == 1002
    assert all(a_end == b_first for (_, a_end), (b_first, _) in itertools.pairwise(ranges))


def test_only_the_ranges_without_a_marker_are_left_to_apply() -> None:
    imported = Import.objects.create(
        original_name="p.csv", stored_name="x", last_row_read=301, status="running"
    )
    # The second and fourth batches committed (say, by a run with other batch sizes), then a crash.
    ImportBatch.objects.create(import_run=imported, first_row=72, end_row=142)
    ImportBatch.objects.create(import_run=imported, first_row=212, end_row=282)
    assert run._pending_batches(imported) == [(2, 72), (142, 212), (282, 302)]


def test_an_import_applied_before_markers_resumes_after_its_checkpoint() -> None:
    imported = Import.objects.create(
        original_name="p.csv",
        stored_name="x",
        last_row_read=200,
        last_row_applied=120,
        status="running",
    )
    assert run._pending_batches(imported) == [(121, 191), (191, 201)]
    # The rows applied before are now one recorded range: a second resume agrees.
    assert run._pending_batches(imported) == [(121, 191), (191, 201)]


def test_rows_are_checked_against_the_whole_file_before_them_while_batches_apply() -> None:
    news = MailingList.objects.create(name="News")
    BlocklistEntry.objects.create(kind=BlocklistEntry.Kind.DOMAIN, value="spam.example")
    lines = [f"p{n}@example.com,P{n}" for n in range(300)]
    lines[250] = "p5@example.com,Again"  # row 252 repeats row 7, four batches earlier
    lines[260] = "x@spam.example,Spam"
    imported = create_import(
        source=io.BytesIO(("email,name\n" + "\n".join(lines) + "\n").encode()),
        name="p.csv",
        lists=[news],
    )
    run.run_import(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.imported, imported.skipped) == ("finished", 298, 2)
    assert [(p.row, p.reason) for p in imported.problems.order_by("row")] == [
        (252, "repeats the address of row 7"),
        (262, "on the blocklist"),
    ]
    assert Subscriber.objects.get(email="p5@example.com").name == "P5"


def test_a_failure_while_applying_stops_the_reading_and_the_next_run_resumes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    news = MailingList.objects.create(name="News")
    imported = create_import(source=io.BytesIO(csv(1000)), name="p.csv", lists=[news])
    real_apply = run.apply.apply_batch
    calls = 0

    def fails_on_third_batch(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the database went away")
        return real_apply(**kwargs)

    monkeypatch.setattr(run.apply, "apply_batch", fails_on_third_batch)
    with pytest.raises(RuntimeError, match="went away"):
        run.run_import(imported.pk)
    monkeypatch.setattr(run.apply, "apply_batch", real_apply)
    imported.refresh_from_db()
    assert (imported.status, imported.imported) == ("running", 140)
    assert imported.error == "the database went away"
    assert list(ImportBatch.objects.values_list("first_row", "end_row").order_by("first_row")) == [
        (2, 72),
        (72, 142),
    ]
    Import.objects.filter(pk=imported.pk).update(
        heartbeat_at=timezone.now() - timedelta(seconds=run.lease_seconds() + 1)
    )
    run.run_import(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.imported, imported.skipped) == ("finished", 1000, 0)
    assert Subscription.objects.filter(import_run=imported).count() == 1000


def test_a_dry_run_counts_batch_by_batch_and_writes_nobody() -> None:
    news = MailingList.objects.create(name="News")
    Subscriber.objects.create(email="p3@example.com")
    imported = create_import(source=io.BytesIO(csv(500)), name="p.csv", lists=[news], dry_run=True)
    run.run_import(imported.pk)
    imported.refresh_from_db()
    assert (imported.status, imported.imported, imported.updated, imported.skipped) == (
        "checked",
        499,
        1,
        0,
    )
    assert Subscriber.objects.count() == 1
    assert not Subscription.objects.exists()
