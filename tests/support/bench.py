"""Running a bench script as `make bench` does, on a small size, for its tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def run_bench(script: str, *args: str, timeout: float = 180) -> list[str]:
    """The lines the bench printed; the test fails with its stderr if it failed."""
    result = subprocess.run(
        [sys.executable, str(BENCH_DIR / script), *args],
        # As `make bench` runs it: production settings, not DEBUG.
        env={**os.environ, "DEBUG": "false"},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()
