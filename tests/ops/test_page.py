"""The operations page, its live fragment and its JSON: who may see them, what
they show, and that their cost does not grow with the number of things."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from delivery import domains
from tests.ops.conftest import Ledger
from tests.ops.world import build_world
from transactional.models import TxMessage

PAGE = "/operations/"
LIVE = "/operations/live/"
COMPLIANCE = "/operations/compliance/"
DATA = "/operations/data.json"

# Session and user, then the snapshot: campaigns 4, scheduled 1, errors by code
# 2 and by domain 1, throughput 2, servers 2, domains 2, transactional 2.
LIVE_QUERIES = 18
# Session and user, then the panel with nothing cached: sending domains, the
# week of sends, reports, campaigns, their sample recipients, the From
# domain's DKIM keys (one From domain in the world).
COMPLIANCE_QUERIES = 8
QUERIES = {
    PAGE: LIVE_QUERIES + COMPLIANCE_QUERIES - 2,
    LIVE: LIVE_QUERIES,
    COMPLIANCE: COMPLIANCE_QUERIES,
    DATA: LIVE_QUERIES + COMPLIANCE_QUERIES - 2,
}


@pytest.mark.parametrize("url", [PAGE, LIVE, COMPLIANCE, DATA])
def test_anonymous_visitors_are_sent_to_log_in(client: Client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


@pytest.mark.parametrize("url", [PAGE, LIVE, COMPLIANCE, DATA])
def test_an_outsider_is_forbidden(outsider_client: Client, url: str) -> None:
    assert outsider_client.get(url).status_code == 403


def test_a_teammate_sees_every_section(teammate_client: Client, ledger: Ledger) -> None:
    build_world(ledger, 1)

    response = teammate_client.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    for heading in (
        "Running campaigns",
        "Throughput",
        "Sending channels",
        "Recipient domains",
        "Workers",
        "Errors by reply code",
        "Errors by recipient domain",
        "Recent events",
        "Stage costs",
        "Compliance",
        "Sending domains",
        "One-click unsubscribe",
    ):
        assert heading in html
    assert 'data-ops-live data-live-url="/operations/live/" data-poll-ms="3000"' in html
    assert 'data-ops-live data-live-url="/operations/compliance/" data-poll-ms="15000"' in html
    assert 'href="/operations/" aria-current="page">Operations<' in html


def test_the_fragment_shows_rate_eta_backlog_throttling_and_errors(
    teammate_client: Client, ledger: Ledger
) -> None:
    build_world(ledger, 1)

    response = teammate_client.get(LIVE)

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    html = response.content.decode()
    assert "Campaign 0" in html
    assert '<td class="num" data-col="rate">2.0 <span' in html  # 60 in the last 30 s
    assert '<td class="num" data-col="eta">1 min 2 s</td>' in html  # 125 pending at 2/s
    assert '<td class="num" data-col="backlog">5</td>' in html
    assert "Down</span>" in html
    assert "timed out connecting to smtp.example.com:587 · back in 30 s" in html
    assert "Throttled</span>" in html
    assert '<span class="code-badge code-5xx">550</span>' in html
    assert '<tr data-error-domain="mail0.example">' in html
    assert '<span class="tag" data-col="kind">SMTP</span>' in html
    assert "550 5.1.1 &lt;r@x&gt;: Recipient address rejected" in html
    assert "celery@worker-1" in html
    assert "<extends" not in html and "<aside" not in html  # a fragment, not a page


def test_no_workers_is_a_clear_warning(teammate_client: Client, db: None) -> None:
    html = teammate_client.get(LIVE).content.decode()
    assert "No workers are running." in html


def test_the_json_has_the_same_numbers(teammate_client: Client, ledger: Ledger) -> None:
    build_world(ledger, 1)

    data = teammate_client.get(DATA).json()

    (campaign,) = data["campaigns"]
    assert (campaign["rate"], campaign["eta_seconds"], campaign["retry_backlog"]) == (2.0, 62, 5)
    assert data["servers"][0]["state"] == "down"
    assert data["servers"][0]["hour_used"] == 60
    assert data["domains"][0]["throttled"] is True
    assert [(e["code"], e["count"]) for e in data["errors"]] == [(421, 5), (550, 3)]
    assert data["workers"][0]["hostname"] == "celery@worker-1"
    assert data["queue"] == {"name": "postino", "waiting": 0, "unacked": 0}
    assert data["stages"]["micros_per_message"]["transmit"] == 20000.0
    assert len(data["throughput"]) == 60
    assert [(e["domain"], e["count"], e["failed"]) for e in data["error_domains"]] == [
        ("mail0.example", 8, 3)
    ]
    assert data["scheduled"] == []
    assert data["servers"][0]["kind"] == "smtp"
    panel = data["compliance"]
    assert panel["complaint_level"] == "ok"
    assert [(r["window"], r["sent"], r["complaint_rate"]) for r in panel["rates"]] == [
        ("24 hours", 60, 0.0),
        ("7 days", 60, 0.0),
    ]
    assert panel["thresholds"] == {"complaint_warning": 0.001, "complaint_critical": 0.003}
    (check,) = panel["one_click"]
    assert (check["campaign_name"], check["verdict"]) == ("Campaign 0", "fail")  # no DKIM key
    assert panel["sending_domains"] == []


def nothing_cached(ops_redis: Any) -> None:
    """As on a page's first poll: no compliance figure cached, no key loaded."""
    ops_redis.flushdb()
    domains.clear_key_cache()


@pytest.mark.parametrize("url", [PAGE, LIVE, COMPLIANCE, DATA])
def test_the_query_count_does_not_grow_with_campaigns_servers_and_domains(
    teammate_client: Client,
    ledger: Ledger,
    url: str,
    django_assert_max_num_queries: Any,
    ops_redis: Any,
) -> None:
    build_world(ledger, 1)
    domains.create_sending_domain(domain="d0.example.com", generate_rsa=False)
    nothing_cached(ops_redis)
    with CaptureQueriesContext(connection) as one:
        assert teammate_client.get(url).status_code == 200
    build_world(ledger, 4, first=1)  # five of each now
    for i in range(1, 5):
        domains.create_sending_domain(domain=f"d{i}.example.com", generate_rsa=False)
    nothing_cached(ops_redis)
    with django_assert_max_num_queries(QUERIES[url]), CaptureQueriesContext(connection) as five:
        assert teammate_client.get(url).status_code == 200
    assert len(five) == len(one), [q["sql"][:80] for q in five.captured_queries]


def test_transactional_mail_waiting_a_minute_raises_the_alarm(
    teammate_client: Client, clean_redis: None
) -> None:
    TxMessage.objects.create(source="api", email="ada@example.com")
    page = teammate_client.get(LIVE).content.decode()
    assert 'data-stat="tx-waiting">1<' in page
    assert 'data-testid="tx-stuck"' not in page
    TxMessage.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))
    page = teammate_client.get(LIVE).content.decode()
    assert 'data-testid="tx-stuck"' in page
    assert "postino-tx" in page
    data = teammate_client.get(DATA).json()["transactional"]
    assert data["waiting"] == 1 and data["stuck"] is True
