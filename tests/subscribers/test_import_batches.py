"""Applying an import in batches, and resuming exactly what is left."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import pytest

from subscribers.imports import run
from subscribers.imports.services import create_import
from subscribers.models import Import, ImportBatch, MailingList, Subscription

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
