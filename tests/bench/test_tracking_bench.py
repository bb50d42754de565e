"""The tracking ingest bench runs end to end on a few events and ingests each once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "tracking_ingest.py"


def test_the_tracking_bench_ingests_every_event() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--events", "3000", "--recipients", "300"],
        # As `make bench` runs it: production settings, not DEBUG.
        env={**os.environ, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("events: 3,000 from 300 recipients")
    assert lines[1].startswith("bare bulk insert of the raw events:")
    assert lines[2].startswith("Postino ingest (verdicts, events, rollups):")
    assert "target at least 5,000 events/s" in lines[3]
