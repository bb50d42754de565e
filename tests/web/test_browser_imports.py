"""Importing a CSV file in the browser: preview, mapping, live progress, the skipped-rows report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from postino import jobs
from subscribers.imports import run
from subscribers.models import Import, MailingList, Subscriber
from tests.conftest import PASSWORD
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, expect, log_in
from tests.support.jobs import QueuedJobs

pytestmark = BROWSER_MARKS

ROWS = (
    "E-Mail;Name;Plan;Score\n"
    "ada@example.com;Ada Lovelace;pro;1,5\n"
    "not-an-address;Bob;free;2\n"
    "grace@example.com;Grace Hopper;free;3\n"
    "ADA@example.com;Ada again;pro;4\n"
    'linus@example.com;"Linus\nT.";team;5\n'
)


@pytest.fixture
def staff(transactional_db: None) -> User:
    return User.objects.create_user("ana", "ana@example.com", PASSWORD, is_staff=True)


@pytest.fixture(autouse=True)
def _import_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path / "imports"}


def test_an_import_with_bad_rows_previews_runs_and_reports_them(
    page: Any, staff: User, tmp_path: Path, queued_jobs: QueuedJobs
) -> None:
    MailingList.objects.create(name="Newsletter")
    upload = tmp_path / "people.csv"
    upload.write_bytes(ROWS.encode("cp1252"))

    log_in(page, "/imports/new/")
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Upload and preview").click()

    expect(page.get_by_role("heading", name="Import people.csv")).to_be_visible()
    expect(page.get_by_text("semicolon separated")).to_be_visible()
    expect(page.locator("#col-0-target")).to_have_value("email")
    expect(page.locator("#col-3-type")).to_have_value("number")
    preview = page.locator("#preview tbody tr")
    expect(preview).to_have_count(5)
    expect(preview.nth(1)).to_contain_text("not a valid email address")
    expect(preview.nth(0)).to_contain_text("score: 1.5")

    # Importing without a list is refused beside the field; the mapping is kept.
    page.locator("#col-2-key").fill("tier")
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#field-lists .field-errors")).to_have_text(
        "Choose at least one list to subscribe the rows to."
    )
    expect(page.locator("#col-2-key")).to_have_value("tier")

    page.get_by_label("Newsletter").check()
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#import-status")).to_have_text("Queued")
    page.screenshot(path=str(SCREENSHOTS / "postino-import-queued.png"), full_page=True)

    # The worker's part, here in the test: the page's poll picks up its progress.
    (import_id,) = queued_jobs.of(jobs.RUN_IMPORT)[-1]
    run.run_import(import_id)
    expect(page.locator("#import-status")).to_have_text("Finished")
    expect(page.locator("#import-imported")).to_have_text("3")
    expect(page.locator("#import-skipped")).to_have_text("2")
    page.screenshot(path=str(SCREENSHOTS / "postino-import-finished.png"), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the skipped rows (CSV)").click()
    report = Path(download.value.path()).read_text().splitlines()
    assert report == [
        "row,line,column,value,reason",
        "3,3,E-Mail,not-an-address,not a valid email address",
        "5,5,email,ada@example.com,repeats the address of row 2",
    ]
    ada = Subscriber.objects.get(email="ada@example.com")
    assert ada.attributes == {"tier": "pro", "score": 1.5}
    assert Subscriber.objects.get(email="linus@example.com").name == "Linus\nT."
    assert Import.objects.get().created_by == staff

    page.get_by_role("link", name="All imports").click()
    expect(page.get_by_role("link", name="people.csv")).to_be_visible()


def test_a_file_that_is_not_csv_is_refused_beside_the_field(
    page: Any, staff: User, tmp_path: Path
) -> None:
    upload = tmp_path / "photo.csv"
    upload.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    log_in(page, "/imports/new/")
    page.set_input_files("#id_file", str(upload))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.locator("#field-file .field-errors")).to_have_text(re.compile("binary data"))
    assert not Import.objects.exists()
