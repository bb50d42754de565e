"""The segment bench runs end to end on a small audience and finds people."""

from __future__ import annotations

from tests.support.bench import run_bench


def test_the_segment_bench_counts_each_segment() -> None:
    lines = run_bench("segment_count.py", "--subscribers", "3000", "--runs", "1")
    assert lines[1].startswith("bare COUNT(*) of the table:")
    segments = [line for line in lines if line.startswith("segment ")]
    assert len(segments) == 5
    # Every segment of the bench matches somebody: a zero would time nothing real.
    assert all(" (0 match" not in line for line in segments), segments
    assert any(line.startswith("slowest segment ") for line in lines)
    pages = [line for line in lines if line.startswith("subscriber page, ")]
    assert len(pages) == 7
    assert lines[-1].startswith("slowest subscriber page ")
