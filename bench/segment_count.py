"""Segment counts and subscriber pages over a million subscribers, beside a bare COUNT(*).

A million subscribers with the attributes an import gives them (a city, an
age, a plan), half of them on a list. Each segment is counted the way the
builder's live count and ``GET /api/v1/segments/{id}/count`` count it: its
conditions compiled to one parameterised query (``subscribers.segments``),
run on the tables and indexes the migrations create. The reference is a plain
``SELECT COUNT(*)`` of the subscribers table in the same run: what reading the
table at all costs. Target: every segment under 1 s.

Then the subscriber index, rendered whole as a marketer opens it (first page,
a page deep in, an address prefix, a list and status, a segment). Target:
every page under 300 ms.

Usage: ``python bench/segment_count.py [--subscribers N]``. It uses its own
database (``postino_bench_segments``, recreated) on ``DATABASE_URL``'s server.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

TARGET_SECONDS = 1.0
PAGE_TARGET_SECONDS = 0.3
DATABASE = "postino_bench_segments"


def populate(count: int, list_id: int) -> None:
    """Rows written by SQL, so the bench measures counting, not Python loops."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO subscribers_subscriber (email, name, attributes, status, created_at,
                                                updated_at)
            SELECT 'person' || n || '@'
                       || (ARRAY['example.com', 'gmail.com', 'mail.test'])[n %% 3 + 1],
                   'Person ' || n,
                   jsonb_build_object(
                       'city', (ARRAY['Lisbon', 'Berlin', 'Paris', 'Madrid', 'Rome', 'Vienna',
                                      'Oslo', 'Dublin', 'Prague'])[n %% 9 + 1],
                       'age', 18 + (n::bigint * 7919) %% 73,
                       'plan', CASE WHEN n %% 10 = 0 THEN 'pro' ELSE 'free' END),
                   'enabled', now() - (n %% 700) * interval '1 day', now()
            FROM generate_series(1, %s) AS n
            """,
            [count],
        )
        cursor.execute(
            """
            INSERT INTO subscribers_subscription (subscriber_id, mailing_list_id, status,
                created_at, updated_at, confirmed_via)
            SELECT id, %s, 'confirmed', created_at, now(), 'import'
            FROM subscribers_subscriber WHERE id %% 2 = 0
            """,
            [list_id],
        )
        cursor.execute("VACUUM ANALYZE subscribers_subscriber")
        cursor.execute("VACUUM ANALYZE subscribers_subscription")


def best_of(runs: int, action: object) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    url = own_database.recreate(DATABASE)
    own_database.use(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from subscribers.models import MailingList
    from subscribers.segments import definition, selectors

    call_command("migrate", verbosity=0)
    news = MailingList.objects.create(name="News")
    started = time.perf_counter()
    populate(args.subscribers, news.pk)
    print(f"{args.subscribers:,} subscribers written in {time.perf_counter() - started:.1f} s")

    def bare() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM subscribers_subscriber")
            cursor.fetchone()

    reference = best_of(args.runs, bare)
    print(f"bare COUNT(*) of the table:                 {reference * 1000:7.1f} ms")

    def attribute(field: str, op: str, value: object) -> dict[str, object]:
        return {"field": f"attributes.{field}", "op": op, "value": value}

    segments = {
        "city is Berlin": [attribute("city", "eq", "Berlin")],
        "plan is pro (10%)": [attribute("plan", "eq", "pro")],
        "age more than 60": [attribute("age", "gt", 60)],
        "city contains 'er'": [attribute("city", "contains", "er")],
        "Berlin, on News, gmail, joined < 90 days": [
            attribute("city", "eq", "Berlin"),
            {"field": "list", "op": "eq", "value": news.pk},
            {"field": "domain", "op": "eq", "value": "gmail.com"},
            {"field": "subscribed_at", "op": "gt", "value": 90},
        ],
    }
    worst = 0.0
    for label, conditions in segments.items():
        group = definition.parse({"match": "all", "conditions": conditions})
        found = selectors.count_group(group)
        seconds = best_of(args.runs, lambda group=group: selectors.count_group(group))
        worst = max(worst, seconds)
        print(
            f"segment {label + ':':<40} {seconds * 1000:7.1f} ms  ({found:,} match; "
            f"{seconds / reference:.1f}x the bare count)"
        )
    verdict = "MET" if worst < TARGET_SECONDS else "NOT MET"
    target = TARGET_SECONDS * 1000
    print(f"slowest segment {worst * 1000:.0f} ms; target under {target:.0f} ms: {verdict}")
    pages(args, news.pk, reference)
    return 0


def pages(args: argparse.Namespace, list_id: int, reference: float) -> None:
    """The subscriber index as a marketer opens it: the whole page, rendered."""
    from django.contrib.auth.models import User
    from django.test import Client

    from subscribers.models import Segment

    own_database.serve_pages_without_collectstatic()
    staff = User.objects.create_user("bench", "bench@example.com", "x", is_staff=True)
    client = Client()
    client.force_login(staff)
    segment = Segment.objects.create(
        name="Berlin",
        definition={"conditions": [{"field": "attributes.city", "op": "eq", "value": "Berlin"}]},
    )
    views: dict[str, dict[str, str | int]] = {
        "first page": {},
        "a page deep in (after id 900,000)": {"after": int(args.subscribers * 0.9)},
        "address starts with 'person12@'": {"q": "person12@"},
        "on a list, confirmed": {"list": list_id, "status": "confirmed"},
        "in a segment": {"segment": segment.pk},
    }
    worst = 0.0
    for label, params in views.items():

        def load(params: dict[str, str | int] = params) -> None:
            response = client.get("/subscribers/", params, secure=True)
            assert response.status_code == 200, response.status_code

        seconds = best_of(args.runs, load)
        worst = max(worst, seconds)
        print(f"subscriber page, {label + ':':<36} {seconds * 1000:7.1f} ms")
    # Names are matched anywhere in them, which no index answers: shown, but
    # not part of the target (paging, address prefixes, lists, segments).
    for label, query in (
        ("'Person 12' (names too)", "Person 12"),
        ("a name nobody has", "Zebulon"),
    ):

        def search(query: str = query) -> None:
            assert client.get("/subscribers/", {"q": query}, secure=True).status_code == 200

        seconds = best_of(args.runs, search)
        print(
            f"subscriber page, search {label + ':':<29} {seconds * 1000:7.1f} ms (reads the table)"
        )
    verdict = "MET" if worst < PAGE_TARGET_SECONDS else "NOT MET"
    print(
        f"slowest subscriber page {worst * 1000:.0f} ms (the bare count took "
        f"{reference * 1000:.0f} ms); target under {PAGE_TARGET_SECONDS * 1000:.0f} ms: {verdict}"
    )


if __name__ == "__main__":
    sys.exit(main())
