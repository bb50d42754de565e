"""The segment bench runs end to end on a small audience and finds people."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "segment_count.py"


def test_the_segment_bench_counts_each_segment() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--subscribers", "3000", "--runs", "1"],
        # As `make bench` runs it: production settings, not DEBUG.
        env={**os.environ, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1].startswith("bare COUNT(*) of the table:")
    segments = [line for line in lines if line.startswith("segment ")]
    assert len(segments) == 5
    # Every segment of the bench matches somebody: a zero would time nothing real.
    assert all(" (0 match" not in line for line in segments), segments
    assert any(line.startswith("slowest segment ") for line in lines)
    pages = [line for line in lines if line.startswith("subscriber page, ")]
    assert len(pages) == 7
    assert lines[-1].startswith("slowest subscriber page ")
