"""End-to-end send throughput: `make bench`.

Sends a personalised campaign to N subscribers through the real pipeline
(PostgreSQL ledger, Celery worker processes over Redis, Jinja2 sandbox render,
MIME build, pooled SMTP) into a local SMTP sink, and prints messages/second
next to a bare ``smtplib`` loop over one connection to the same sink, measured
in the same run. Target (issue "The whole path"): at least 150 messages/s.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_PER_SECOND = 150.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path="/postino_bench"))


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS postino_bench WITH (FORCE)")
        conn.execute("CREATE DATABASE postino_bench")


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def bare_smtplib_rate(port: int, count: int) -> float:
    message = b"From: bench@example.com\r\nTo: r@example.org\r\nSubject: bare\r\n\r\n" + b"x" * 2000
    conn = smtplib.SMTP("127.0.0.1", port)
    conn.ehlo()
    started = time.perf_counter()
    for i in range(count):
        conn.sendmail("bench@example.com", [f"r{i}@example.org"], message)
    elapsed = time.perf_counter() - started
    conn.quit()
    return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    args = parser.parse_args()

    database_url = bench_database_url()
    ensure_database(database_url)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14"),
            "SECRET_KEY": env.get("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghij"),
            "BASE_URL": "https://postino.example.com",
            "SEND_TICK_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)

    from campaigns.models import Campaign
    from campaigns.services import create_campaign, start_campaign
    from delivery.models import Delivery
    from delivery.services import create_smtp_server
    from postino.redis import redis_client
    from subscribers.models import MailingList, Subscriber, Subscription

    redis_client().flushdb()
    sink_port = free_port()
    logs = Path(tempfile.mkdtemp(prefix="postino-bench-"))
    sink = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "sink.py"), str(sink_port)],
        stdout=subprocess.DEVNULL,
    )
    worker = None
    try:
        wait_for_port(sink_port)
        bare = bare_smtplib_rate(sink_port, 3000)

        mailing_list = MailingList.objects.create(name="Bench")
        subscribers = Subscriber.objects.bulk_create(
            [
                Subscriber(email=f"r{i}@example.org", name=f"Reader {i}", attributes={"n": i})
                for i in range(args.recipients)
            ],
            batch_size=2000,
        )
        Subscription.objects.bulk_create(
            [
                Subscription(subscriber=s, mailing_list=mailing_list, status="confirmed")
                for s in subscribers
            ],
            batch_size=2000,
        )
        server = create_smtp_server(
            name="Sink",
            host="127.0.0.1",
            port=sink_port,
            security="none",
            max_connections=8,
            messages_per_second=100000,
        )
        html = (ROOT / "bench" / "newsletter.html").read_text()
        campaign = create_campaign(
            name="Bench",
            subject="News for {{ subscriber.name }}",
            from_email="Bench <bench@example.com>",
            html=html,
            lists=[mailing_list],
            smtp_server=server,
        )
        worker_log = (logs / "worker.log").open("wb")
        worker = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "postino", "worker",
                f"--concurrency={args.concurrency}", "--loglevel=WARNING",
                "--without-mingle", "--without-gossip",
            ],
            cwd=ROOT, env=env, stdout=worker_log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        time.sleep(3)  # let the worker connect before the clock starts
        started = time.perf_counter()
        start_campaign(campaign=campaign)
        while True:
            campaign.refresh_from_db()
            if campaign.status == Campaign.Status.FINISHED:
                break
            if worker.poll() is not None:
                raise RuntimeError(f"worker died; see {logs / 'worker.log'}")
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        sent = Delivery.objects.filter(campaign=campaign, status="sent").count()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        sink.terminate()
        sink.wait(10)

    rate = sent / elapsed
    print()
    print("Postino send throughput (personalised, end to end)")
    print(f"  recipients sent           {sent}")
    print(f"  worker processes          {args.concurrency}")
    print(f"  elapsed                   {elapsed:.2f} s")
    print(f"  Postino end to end        {rate:8.1f} msg/s")
    print(f"  bare smtplib, 1 conn      {bare:8.1f} msg/s  (same sink, same run)")
    print(f"  ratio to bare smtplib     {rate / bare:8.1%}")
    print(f"  target                    {TARGET_PER_SECOND:8.1f} msg/s  ->", end=" ")
    print("MET" if rate >= TARGET_PER_SECOND else "NOT MET")


if __name__ == "__main__":
    main()
