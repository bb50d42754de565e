"""A campaign report with 10,000,000 tracking events in the table.

Ten campaigns have sent to 250,000 recipients each (their ledger rows) and
drawn 10,000,000 opens and clicks in all, written straight to the events
table, with the rollups ingestion keeps (per hour, link and domain) and the
ledger's tally by domain. Timed, as a signed-in teammate sees them: the
campaign page with its Results, and
``GET /api/v1/campaigns/{id}/report``, each the median of 5 after a warm-up,
beside the same page for a campaign that sent nothing (the page's own cost).
Target: the report renders in under 300 ms.

Usage: ``python bench/report_render.py [--events N] [--recipients N]``. It uses
its own database (``postino_bench_report``, recreated) on ``DATABASE_URL``'s
server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

TARGET_MS = 300.0
CAMPAIGNS = 10


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--recipients", type=int, default=250_000)
    args = parser.parse_args()

    url = own_database.recreate("postino_bench_report")
    own_database.use(url)
    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    from api.services import create_token
    from campaigns.models import Campaign

    started_at = timezone.now()
    campaigns = [
        Campaign.objects.create(
            name=f"Issue {n}",
            subject="Hi",
            from_email="news@example.com",
            html="<p>Hi</p>",
            status=Campaign.Status.FINISHED,
            started_at=started_at,
            finished_at=started_at,
        )
        for n in range(CAMPAIGNS + 1)
    ]
    quiet = campaigns.pop()  # sent nothing: the reference
    ids = [c.pk for c in campaigns]
    per_campaign = args.events // CAMPAIGNS
    setup = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO subscribers_subscriber (email, name, attributes, status, created_at, "
            "updated_at) SELECT 'r' || g || '@' || (ARRAY['gmail.com','outlook.com','web.de',"
            "'yahoo.com'])[1 + g %% 4], '', '{}', 'enabled', now(), now() "
            "FROM generate_series(1, %s) g",
            [args.recipients],
        )
        cursor.execute("SELECT min(id) FROM subscribers_subscriber")
        (first_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO delivery_delivery (campaign_id, subscriber_id, status, attempts, "
            "smtp_reply, message_id, provider_message_id, created_at, updated_at, sent_at) "
            "SELECT c, %s + g, 'sent', 1, '250 ok', '', '', now(), now(), now() "
            "FROM unnest(%s::bigint[]) c, generate_series(0, %s) g",
            [first_id, ids, args.recipients - 1],
        )
        for campaign_id in ids:
            cursor.execute(
                "INSERT INTO tracking_link (campaign_id, url_hash, url) SELECT %s, md5(%s || l), "
                "'https://shop.example/item/' || l FROM generate_series(1, 50) l",
                [campaign_id, str(campaign_id)],
            )
            cursor.execute(
                "INSERT INTO tracking_event (campaign_id, subscriber_id, kind, link_id, human, "
                "reason, occurred_at) SELECT %s, %s + (g::bigint * 7919) %% %s, "
                "CASE WHEN g %% 3 = 0 THEN 'click' ELSE 'open' END, "
                "CASE WHEN g %% 3 = 0 THEN (SELECT min(id) FROM tracking_link "
                "WHERE campaign_id = %s) + g %% 50 END, g %% 5 <> 0, "
                "CASE WHEN g %% 5 = 0 THEN 'apple-mpp' ELSE '' END, "
                "now() - (g %% 720) * interval '1 hour' FROM generate_series(1, %s) g",
                [campaign_id, first_id, args.recipients, campaign_id, per_campaign],
            )
        # The rollups, as ingestion would have left them.
        cursor.execute(
            "INSERT INTO tracking_campaignhour (campaign_id, hour, opens, unique_opens, "
            "machine_opens, clicks, unique_clicks, machine_clicks) "
            "SELECT campaign_id, date_trunc('hour', occurred_at), "
            "count(*) FILTER (WHERE kind = 'open' AND human), "
            "count(DISTINCT subscriber_id) FILTER (WHERE kind = 'open' AND human) / 4, "
            "count(*) FILTER (WHERE kind = 'open' AND NOT human), "
            "count(*) FILTER (WHERE kind = 'click' AND human), "
            "count(DISTINCT subscriber_id) FILTER (WHERE kind = 'click' AND human) / 4, "
            "count(*) FILTER (WHERE kind = 'click' AND NOT human) "
            "FROM tracking_event GROUP BY 1, 2"
        )
        cursor.execute(
            "INSERT INTO tracking_linkstats (link_id, campaign_id, clicks, unique_clicks, "
            "machine_clicks) SELECT link_id, campaign_id, count(*) FILTER (WHERE human), "
            "count(*) FILTER (WHERE human) / 2, count(*) FILTER (WHERE NOT human) "
            "FROM tracking_event WHERE link_id IS NOT NULL GROUP BY 1, 2"
        )
        cursor.execute(
            "INSERT INTO tracking_domainstats (campaign_id, domain, unique_opens, unique_clicks) "
            "SELECT c, d, 1000, 100 FROM unnest(%s::bigint[]) c, "
            "unnest(ARRAY['gmail.com','outlook.com','web.de','yahoo.com']) d",
            [ids],
        )
        cursor.execute(
            "INSERT INTO delivery_domainoutcome (campaign_id, domain, sent, failed) "
            "SELECT c, d, %s, 0 FROM unnest(%s::bigint[]) c, "
            "unnest(ARRAY['gmail.com','outlook.com','web.de','yahoo.com']) d",
            [args.recipients // 4, ids],
        )
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM tracking_event")
        (events,) = cursor.fetchone()
    print(
        f"{events:,} events in the table ({CAMPAIGNS} campaigns of {args.recipients:,} "
        f"recipients each; written in {time.perf_counter() - setup:.0f} s)"
    )

    teammate = User.objects.create_user("ana", "ana@example.com", "x", is_staff=True)
    own_database.serve_pages_without_collectstatic()
    browser = Client()
    browser.force_login(teammate)
    token = create_token(user=teammate)

    def timed(path: str, **headers: str) -> float:
        times = []
        for attempt in range(6):
            begun = time.perf_counter()
            response = browser.get(path, secure=True, headers=headers)
            elapsed = time.perf_counter() - begun
            assert response.status_code == 200, (path, response.status_code)
            if attempt:  # the first warms up
                times.append(elapsed)
        return statistics.median(times) * 1000

    reference = timed(f"/campaigns/{quiet.pk}/")
    page = timed(f"/campaigns/{ids[0]}/")
    api = timed(f"/api/v1/campaigns/{ids[0]}/report", Authorization=f"Bearer {token}")
    print(f"reference, the page of a campaign that sent nothing: {reference:6.1f} ms")
    print(f"Postino campaign page with its Results:             {page:6.1f} ms")
    print(f"Postino GET /api/v1/campaigns/{{id}}/report:           {api:6.1f} ms")
    slowest = max(page, api)
    verdict = "MET" if slowest < TARGET_MS else "NOT MET"
    print(f"  slowest {slowest:.1f} ms; target under {TARGET_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
