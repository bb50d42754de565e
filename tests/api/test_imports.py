"""POST /imports and friends: upload a CSV file, follow it, read its error report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from subscribers.imports import run
from subscribers.models import Import, MailingList, Subscriber
from tests.api.client import ApiClient

CSV = (
    b"email,name,plan\nada@example.com,Ada,pro\nnot-an-address,Bob,free\nada@example.com,Again,x\n"
)


@pytest.fixture(autouse=True)
def _import_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path / "imports"}


def test_an_uploaded_file_is_imported_and_its_skipped_rows_reported(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    response = owner_api.upload(
        "/imports", {"file": ("people.csv", CSV), "lists": str(newsletter.pk), "mode": "subscribe"}
    )
    assert response.status_code == 202, response.json()
    import_id = response.json()["id"]
    assert response.json()["status"] == "queued"

    run.run_import(import_id)
    body = owner_api.get(f"/imports/{import_id}").json()
    assert {key: body[key] for key in ("status", "rows", "imported", "updated", "skipped")} == {
        "status": "finished",
        "rows": 3,
        "imported": 1,
        "updated": 0,
        "skipped": 2,
    }
    assert body["percent"] == 100.0
    assert Subscriber.objects.get().attributes == {"plan": "pro"}

    errors_url = body["errors_url"]
    assert errors_url.endswith(f"/api/v1/imports/{import_id}/errors")
    report = owner_api.get(f"/imports/{import_id}/errors")
    assert report["Content-Type"].startswith("text/csv")
    assert b"".join(report.streaming_content).decode().splitlines() == [
        "row,line,column,value,reason",
        "3,3,email,not-an-address,not a valid email address",
        "4,4,email,ada@example.com,repeats the address of row 2",
    ]


def test_every_problem_with_the_request_is_reported_at_once(owner_api: ApiClient) -> None:
    response = owner_api.upload(
        "/imports",
        {"file": ("people.csv", CSV), "lists": "999", "overwrite": "maybe", "mapping": "{"},
    )
    assert response.status_code == 400
    fields = {error["field"]: error["message"] for error in response.json()["errors"]}
    assert fields == {
        "overwrite": "overwrite must be true or false, not 'maybe'.",
        "lists": "Unknown list id(s): 999.",
        "mapping": "mapping must be JSON.",
    }
    assert not Import.objects.exists()


def test_a_file_that_is_not_csv_is_refused_with_the_reason(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    response = owner_api.upload(
        "/imports",
        {
            "file": ("photo.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4),
            "lists": str(newsletter.pk),
        },
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "file"
    assert "binary" in response.json()["errors"][0]["message"]
    assert not Import.objects.exists()


def test_subscribe_mode_needs_a_list(owner_api: ApiClient) -> None:
    response = owner_api.upload("/imports", {"file": ("people.csv", CSV)})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"field": "lists", "message": "Choose at least one list to subscribe the rows to."}
    ]


def test_a_queued_import_can_be_cancelled_once(
    owner_api: ApiClient, newsletter: MailingList
) -> None:
    created = owner_api.upload("/imports", {"file": ("p.csv", CSV), "lists": str(newsletter.pk)})
    import_id = created.json()["id"]
    cancelled = owner_api.post(f"/imports/{import_id}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")
    again = owner_api.post(f"/imports/{import_id}/cancel")
    assert again.status_code == 409
    assert again.json()["detail"] == "The import is already cancelled."


def test_an_unknown_import_is_a_404(owner_api: ApiClient) -> None:
    assert owner_api.get("/imports/12345").status_code == 404
    assert owner_api.get("/imports/12345/errors").status_code == 404
