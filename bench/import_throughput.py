"""Import throughput: a million-row CSV into a list, beside a bare COPY of the same file.

The file looks like a real export: email, name and three attributes (a city,
an age, a yes/no flag), about 60 MB. Postino's figure covers everything a
worker does for an uploaded file: sniffing, reading and typing every row,
staging it, checking repeats, blocklist and suppressions, creating the
subscribers, their subscriptions and consent records, with commits along
the way. The reference is PostgreSQL's own ``COPY`` of the same file into an
unindexed table, in the same run, on the same server: the floor no import
can go under. Target: under 20 s for the million.

Usage: ``python bench/import_throughput.py [--rows N] [--keep]``. It uses its
own database (``postino_bench_import``, recreated) on ``DATABASE_URL``'s server.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

TARGET_SECONDS_PER_MILLION = 20.0
CITIES = ["Lisbon", "Berlin", "Paris", "Madrid", "Rome", "Vienna", "Oslo", "Dublin", "Prague"]
FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Radia"]
LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson"]


def write_file(path: Path, rows: int) -> None:
    chooser = random.Random(8)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("email,name,city,age,vip\n")
        for number in range(rows):
            first, last = chooser.choice(FIRST), chooser.choice(LAST)
            out.write(
                f"{first.lower()}.{last.lower()}.{number}@example.com,{first} {last},"
                f"{chooser.choice(CITIES)},{chooser.randint(18, 90)},"
                f"{'yes' if chooser.random() < 0.2 else 'no'}\n"
            )


def bare_copy(url: str, path: Path) -> float:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare_copy")
        conn.execute(
            "CREATE TABLE bench_bare_copy (email text, name text, city text, age int, vip text)"
        )
        started = time.perf_counter()
        with (
            conn.cursor() as cursor,
            cursor.copy("COPY bench_bare_copy FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as source,
        ):
            while block := source.read(1 << 20):
                copy.write(block)
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare_copy")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()

    url = own_database.recreate("postino_bench_import")
    own_database.use(url)
    import django

    with tempfile.TemporaryDirectory(prefix="postino-import-bench-") as scratch:
        os.environ["IMPORT_DIR"] = str(Path(scratch) / "imports")
        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from postino import jobs
        from subscribers.imports import run
        from subscribers.imports.services import create_import
        from subscribers.models import Import, MailingList, Subscription

        # The worker's own function runs here, in this process: no broker needed.
        queued: list[object] = []
        jobs.publish = lambda name, args, countdown=None: queued.append(args)

        path = Path(scratch) / "people.csv"
        write_file(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(f"file: {args.rows:,} rows, {size_mb:.0f} MB (email, name, 3 attributes)")

        bare = bare_copy(url, path)
        print(
            f"bare COPY into an unindexed table:  {bare:6.2f} s  ({args.rows / bare:,.0f} rows/s)"
        )

        newsletter = MailingList.objects.create(name="Newsletter")
        started = time.perf_counter()
        with path.open("rb") as source:
            import_run = create_import(source=source, name=path.name, lists=[newsletter])
        run.run_import(import_run.pk)
        elapsed = time.perf_counter() - started
        import_run.refresh_from_db()
        assert import_run.status == Import.Status.FINISHED, import_run.error
        assert import_run.read_at and import_run.started_at
        read_seconds = (import_run.read_at - import_run.started_at).total_seconds()
        subscriptions = Subscription.objects.filter(mailing_list=newsletter).count()
        # Each new subscription carries its consent record: this import.
        consent = Subscription.objects.filter(import_run=import_run).count()
        assert import_run.imported == subscriptions == consent == args.rows, (
            import_run.imported,
            subscriptions,
            consent,
        )
        target = TARGET_SECONDS_PER_MILLION * args.rows / 1_000_000
        verdict = "MET" if elapsed < target else "NOT MET"
        print(
            f"Postino import (upload to finished):  {elapsed:6.2f} s  "
            f"({args.rows / elapsed:,.0f} rows/s; reading, with batches applied alongside, "
            f"{read_seconds:.1f} s, then the last batches {elapsed - read_seconds:.1f} s)"
        )
        print(f"  {elapsed / bare:.1f}x the bare COPY; target under {target:.0f} s: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
