"""Every sample in ``corpus/`` parses to what ``expected.json`` says.

All mismatches are reported at once, so a change to a shared phrase list
shows its whole effect. Regenerate the corpus with ``make_corpus.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bounces.parser import parse_message

CORPUS = Path(__file__).resolve().parent / "corpus"


def _result(path: Path, expected: dict[str, Any]) -> dict[str, Any]:
    report = parse_message(path.read_bytes())
    got: dict[str, Any] = {
        "kind": report.kind,
        "recipients": [
            {"email": r.email, "kind": r.kind, "status": r.status} for r in report.recipients
        ],
        "feedback_type": report.feedback_type,
    }
    for optional in ("verp_delivery_id", "campaign_id"):
        if optional in expected:
            got[optional] = getattr(report, optional)
    return got


def test_every_corpus_message_parses_as_expected() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text())
    mismatches = []
    for name, wanted in sorted(expected.items()):
        got = _result(CORPUS / name, wanted)
        if got != wanted:
            mismatches.append(f"{name}\n  expected {wanted}\n  got      {got}")
    assert not mismatches, f"{len(mismatches)} of {len(expected)} differ:\n" + "\n".join(mismatches)


def test_the_corpus_has_no_file_without_an_expectation() -> None:
    expected = json.loads((CORPUS / "expected.json").read_text())
    files = {str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.eml")}
    assert files == set(expected)
    assert len(files) >= 120
