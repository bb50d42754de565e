"""``manage.py import_subscribers``: the same import from a terminal, on PostgreSQL and SQLite."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command

from subscribers.models import Import, MailingList, Subscription

BASE_DIR = Path(django_settings.BASE_DIR)
CSV = "email,name,city\nada@example.com,Ada,London\nbroken,Bob,Paris\ngrace@example.com,Grace,NYC\n"


@pytest.fixture(autouse=True)
def _import_dir(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path / "imports"}


def test_the_command_imports_inline_and_prints_what_it_did(
    transactional_db: None, tmp_path: Path
) -> None:
    MailingList.objects.create(name="Newsletter")
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_subscribers", str(path), "--list", "newsletter", "--inline", stdout=out, stderr=err
    )
    assert out.getvalue().splitlines()[0] == (
        "Finished: 3 rows, imported 2 new, 0 existing, 1 skipped."
    )
    # Without a terminal the progress comes as plain lines, the last one at 100 %.
    assert "100.0%" in err.getvalue().splitlines()[-1]
    assert Subscription.objects.filter(mailing_list__name="Newsletter").count() == 2

    report = io.StringIO()
    call_command("import_report", str(Import.objects.get().pk), stdout=report)
    assert report.getvalue().splitlines() == [
        "row,line,column,value,reason",
        "3,3,email,broken,not a valid email address",
    ]


def test_an_unknown_list_is_refused_before_anything_is_stored(
    transactional_db: None, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(CSV)
    with pytest.raises(CommandError, match="No list named or numbered 'Nope'"):
        call_command("import_subscribers", str(path), "--list", "Nope", "--inline")
    assert not Import.objects.exists()


def test_an_import_runs_on_the_embedded_sqlite_database_too(tmp_path: Path) -> None:
    """``make run``'s defaults: no DATABASE_URL, so SQLite in the var directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")
    }
    (tmp_path / "var").mkdir()
    env.update(POSTINO_VAR_DIR=str(tmp_path / "var"), DEBUG="true")
    path = tmp_path / "people.csv"
    path.write_text(CSV + "ada@example.com,Ada again,Rome\n")

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    manage("migrate", "--verbosity", "0")
    manage(
        "shell",
        "-c",
        "from subscribers.models import MailingList; MailingList.objects.create(name='News')",
    )
    common = ("--list", "News", "--inline", "--no-progress")
    assert manage("import_subscribers", str(path), *common).splitlines()[0] == (
        "Finished: 4 rows, imported 2 new, 0 existing, 2 skipped."
    )
    path.write_text("email,name,city\nada@example.com,Ada L,Lisbon\nnew@example.com,New,Oslo\n")
    assert manage("import_subscribers", str(path), "--overwrite", *common).splitlines()[0] == (
        "Finished: 2 rows, imported 1 new, 1 existing, 0 skipped."
    )
    shown = manage(
        "shell",
        "-c",
        "from subscribers.models import Subscriber as S; "
        "print(sorted((s.email, s.name, s.attributes['city']) for s in S.objects.all()))",
    )
    assert shown.strip().splitlines()[-1] == (
        "[('ada@example.com', 'Ada L', 'Lisbon'), ('grace@example.com', 'Grace', 'NYC'), "
        "('new@example.com', 'New', 'Oslo')]"
    )
    # The export's attribute columns come from SQLite's json_each there.
    exported = manage(
        "shell",
        "-c",
        "from subscribers.models import MailingList; "
        "from subscribers.selectors import export_list; "
        "print(''.join(export_list(MailingList.objects.get())), end='')",
    ).splitlines()
    assert exported[-4].startswith(
        "email,name,status,subscribed_at,confirmed_at,unsubscribed_at,city"
    )
    assert [line.split(",")[0] for line in exported[-3:]] == [
        "ada@example.com",
        "grace@example.com",
        "new@example.com",
    ]
