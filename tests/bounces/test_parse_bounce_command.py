"""``manage.py parse_bounce``: one JSON line per file, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

CORPUS = Path(__file__).resolve().parent / "corpus"


def _run(*files: str) -> tuple[list[dict[str, object]], int]:
    out = io.StringIO()
    code = 0
    try:
        call_command("parse_bounce", *files, stdout=out)
    except SystemExit as exc:
        code = int(exc.code or 0)
    return [json.loads(line) for line in out.getvalue().splitlines()], code


def test_it_prints_one_json_object_per_file() -> None:
    lines, code = _run(str(CORPUS / "postfix/user_unknown.eml"), str(CORPUS / "arf/abuse_full.eml"))
    assert code == 0
    assert [line["kind"] for line in lines] == ["hard", "complaint"]
    assert lines[0]["recipients"][0]["email"] == "ana.lima@receiver.example"  # type: ignore[index]
    assert lines[0]["recipients"][0]["status"] == "5.1.1"  # type: ignore[index]
    assert lines[0]["recipients"][0]["action"] == "failed"  # type: ignore[index]
    assert lines[0]["feedback_type"] is None
    assert lines[1]["feedback_type"] == "abuse"
    assert lines[0]["verp_delivery_id"] == 1000


def test_unreadable_files_get_an_error_and_no_kind(tmp_path: Path) -> None:
    lines, code = _run(str(tmp_path / "missing.eml"), str(tmp_path))
    assert code == 1
    assert [line["kind"] for line in lines] == [None, None]
    assert all(line["error"] for line in lines)


def test_junk_and_empty_files_are_read_but_are_not_bounces(tmp_path: Path) -> None:
    empty = tmp_path / "empty.eml"
    empty.write_bytes(b"")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 40)
    lines, code = _run(str(empty), str(junk), str(tmp_path / "nope"))
    assert code == 0
    assert [line["kind"] for line in lines] == ["not_bounce", "not_bounce", None]
    assert lines[0]["error"] and lines[1]["error"]


@pytest.mark.parametrize(
    "name", ["i18n/ja_unknown.eml", "i18n/ru_full.eml", "exim/unrouteable.eml"]
)
def test_odd_charsets_and_line_endings_come_out_as_valid_json(name: str) -> None:
    lines, _code = _run(str(CORPUS / name))
    assert lines[0]["kind"] in ("hard", "soft")
