"""Bounce parsing rate: ``python bench/bounce_parse.py [--rounds N]``.

Parses every message of the test corpus (``tests/bounces/corpus``) in a loop
on one core and prints messages per second and the mean time per message.
Target (issue "Bounces and complaints"): well under 5 ms per typical message.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "sqlite:///:memory:")

import django  # noqa: E402

django.setup()

from bounces.parser import parse_message  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    messages = [p.read_bytes() for p in sorted((ROOT / "tests/bounces/corpus").rglob("*.eml"))]
    for raw in messages:  # warm-up: regex compilation, imports
        parse_message(raw)
    slowest = 0.0
    start = time.perf_counter()
    for _ in range(args.rounds):
        for raw in messages:
            t0 = time.perf_counter()
            parse_message(raw)
            slowest = max(slowest, time.perf_counter() - t0)
    elapsed = time.perf_counter() - start
    count = len(messages) * args.rounds
    print(f"{len(messages)} messages x {args.rounds} rounds")
    print(
        f"{count / elapsed:,.0f} messages/s, {elapsed / count * 1000:.3f} ms mean, "
        f"{slowest * 1000:.2f} ms slowest"
    )


if __name__ == "__main__":
    main()
