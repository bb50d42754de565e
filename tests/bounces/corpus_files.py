"""What the corpus generators (``make_corpus*.py``) share: where the corpus
lives, Django set up with the suite's SECRET_KEY (VERP tokens are signed with
it), and writing samples with their expectations into ``expected.json``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTED = CORPUS / "expected.json"
Sample = tuple[str, bytes, dict[str, Any]]


def setup_django() -> None:
    """Make the project importable and configured, as the test suite does."""
    for path in (str(ROOT), str(ROOT / "tests" / "support")):
        if path not in sys.path:
            sys.path.insert(0, path)
    import env_defaults  # noqa: F401 - the suite's SECRET_KEY before Django loads

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")
    import django

    django.setup()


def verp_token(delivery_id: int) -> str:
    setup_django()
    from delivery.verp import make_token

    return make_token(delivery_id)


def write_samples(samples: Iterable[Sample], *, prefix: str | None = None) -> int:
    """Write sample files and their expectations; returns how many.

    With ``prefix`` (``"b2-"``, …) only that author's samples are replaced:
    their old files and entries go, everyone else's stay. Without it,
    ``expected.json`` is rebuilt from ``samples`` alone.
    """
    expected: dict[str, Any] = {}
    if prefix is not None:
        marker = f"/{prefix}"
        expected = {k: v for k, v in json.loads(EXPECTED.read_text()).items() if marker not in k}
        for old in CORPUS.rglob(f"{prefix}*.eml"):
            old.unlink()
    count = 0
    for path, data, result in samples:
        target = CORPUS / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        expected[path] = result
        count += 1
    EXPECTED.write_text(json.dumps(expected, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return count
