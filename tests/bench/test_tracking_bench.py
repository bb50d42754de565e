"""The tracking benches run end to end on a small load: ingest, and the redirect under gunicorn."""

from __future__ import annotations

from tests.support.bench import run_bench


def test_the_tracking_bench_ingests_every_event() -> None:
    lines = run_bench("tracking_ingest.py", "--events", "3000", "--recipients", "300")
    assert lines[0].startswith("events: 3,000 from 300 recipients")
    assert lines[1].startswith("bare bulk insert of the raw events:")
    assert lines[2].startswith("Postino ingest (verdicts, events, rollups):")
    assert "target at least 5,000 events/s" in lines[3]


def test_the_redirect_bench_serves_clicks_through_gunicorn_and_queues_each() -> None:
    lines = run_bench("redirect_latency.py", "--rate", "100", "--clients", "10", "--seconds", "1")
    assert lines[0].startswith("100 requests/s offered by 10 clients")
    assert lines[1].startswith("reference, the favicon")
    assert lines[2].startswith("Postino click redirect (verify, queue, 302):")
    assert "every click queued" in lines[3]


def test_the_report_bench_renders_the_page_and_the_api_over_its_events() -> None:
    lines = run_bench("report_render.py", "--events", "20000", "--recipients", "2000")
    assert lines[0].startswith("20,000 events in the table")
    assert lines[1].startswith("reference, the page of a campaign that sent nothing:")
    assert lines[2].startswith("Postino campaign page with its Results:")
    assert lines[3].startswith("Postino GET /api/v1/campaigns/{id}/report:")
    assert "target under 300 ms" in lines[4]
