"""End-to-end send throughput: `make bench`.

Sends personalised, DKIM-signed (RSA-2048) campaigns through the real
pipeline (PostgreSQL ledger, Celery worker processes over Redis, Jinja2
sandbox render, MIME build, DKIM, pooled SMTP) into a local SMTP sink, first
with one worker process and then with two, and prints messages per second
beside a bare ``smtplib`` loop over one connection to the same sink, measured
in the same run, plus where the time goes per message.

The sink is Postfix's ``smtp-sink`` when installed (Debian package
``postfix``), else ``bench/sink.py``, which is as fast on this machine.

Targets (issue "Delivery engine at scale"): at least 500 messages/s with two
worker processes, and at least 25 % of the bare smtplib rate.
"""

from __future__ import annotations

import argparse
import os
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGET_PER_SECOND = 500.0
TARGET_SHARE_OF_BARE = 0.25
STAGES = ("audience", "setup", "render", "gate", "smtp", "ledger", "control", "throttled")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
    return urlunsplit(urlsplit(base)._replace(path="/postino_bench"))


def recreate_database(url: str) -> None:
    import psycopg

    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
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


def start_sink(port: int) -> tuple[subprocess.Popen[bytes], str]:
    smtp_sink = shutil.which("smtp-sink") or (
        "/usr/sbin/smtp-sink" if Path("/usr/sbin/smtp-sink").exists() else None
    )
    if smtp_sink:
        args = [smtp_sink, f"127.0.0.1:{port}", "1024"]
        if os.geteuid() == 0:
            args[1:1] = ["-u", "nobody"]
        name = "Postfix smtp-sink"
    else:
        args = [sys.executable, str(ROOT / "bench" / "sink.py"), str(port)]
        name = "bench/sink.py"
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port)
    return process, name


def bare_smtplib_rate(port: int, message: bytes, count: int) -> float:
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
    parser.add_argument("--recipients", type=int, default=6000, help="per run")
    args = parser.parse_args()

    database_url = bench_database_url()
    recreate_database(database_url)
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
    from delivery.chunk import STAGES_KEY
    from delivery.domains import create_sending_domain
    from delivery.messages import MessageFactory
    from delivery.models import Delivery
    from delivery.services import create_smtp_server
    from postino.redis import redis_client
    from subscribers.models import MailingList, Subscriber, Subscription

    redis_client().flushdb()
    port = free_port()
    sink, sink_name = start_sink(port)
    logs = Path(tempfile.mkdtemp(prefix="postino-bench-"))
    workers: list[subprocess.Popen[bytes]] = []
    results: list[dict[str, Any]] = []
    try:
        create_sending_domain(domain="example.com", generate_rsa=True, generate_ed25519=False)
        server = create_smtp_server(
            name="Sink", host="127.0.0.1", port=port, security="none",
            max_connections=16, messages_per_second=100000,
        )  # fmt: skip
        html = (ROOT / "bench" / "newsletter.html").read_text()

        def make_campaign(label: str) -> Campaign:
            mailing_list = MailingList.objects.create(name=label)
            subscribers = Subscriber.objects.bulk_create(
                [
                    Subscriber(
                        email=f"{label}-{i}@example.org", name=f"Reader {i}", attributes={"n": i}
                    )
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
            return create_campaign(
                name=label, subject="News for {{ subscriber.name }}",
                from_email="Bench <bench@example.com>", html=html,
                lists=[mailing_list], smtp_server=server,
            )  # fmt: skip

        campaigns = {1: make_campaign("one-worker"), 2: make_campaign("two-workers")}
        # The bare loop sends a message of the same size as ours, signed once.
        probe = Subscriber.objects.first()
        assert probe is not None
        _, _, message = MessageFactory(campaigns[1]).build(subscriber=probe, delivery_id=1)
        bare = bare_smtplib_rate(port, message, 3000)

        for count, campaign in campaigns.items():
            while len(workers) < count:
                log = (logs / f"worker-{len(workers)}.log").open("wb")
                workers.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "celery",
                            "-A",
                            "postino",
                            "worker",
                            "--concurrency=1",
                            "--loglevel=WARNING",
                            "--without-mingle",
                            "--without-gossip",
                            f"--hostname=bench{len(workers)}@%h",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            time.sleep(4)  # let the workers connect before the clock starts
            redis_client().delete(STAGES_KEY)
            started = time.perf_counter()
            start_campaign(campaign=campaign)
            while True:
                campaign.refresh_from_db()
                if campaign.status == Campaign.Status.FINISHED:
                    break
                if any(worker.poll() is not None for worker in workers):
                    raise RuntimeError(f"a worker died; see {logs}")
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
            sent = Delivery.objects.filter(campaign=campaign, status="sent").count()
            stages = {
                key.decode(): float(value)
                for key, value in redis_client().hgetall(STAGES_KEY).items()
            }
            results.append({"workers": count, "sent": sent, "elapsed": elapsed, "stages": stages})
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        sink.terminate()
        sink.wait(10)

    print()
    print("Postino send throughput: personalised, DKIM-signed (RSA-2048), end to end")
    print(f"  sink                      {sink_name}, message size {len(message):,} bytes")
    print(f"  bare smtplib, 1 conn      {bare:8.1f} msg/s  (same sink, same run)")
    for result in results:
        rate = result["sent"] / result["elapsed"]
        result["rate"] = rate
        print(
            f"  {result['workers']} worker process(es)      {rate:8.1f} msg/s"
            f"  ({result['sent']} messages in {result['elapsed']:.2f} s,"
            f" {rate / bare:.0%} of bare)"
        )
    one, two = results[0]["rate"], results[-1]["rate"]
    print(f"  scaling 1 -> 2 workers    {two / one:8.2f}x")
    stages = results[-1]["stages"]
    messages = max(1.0, stages.get("messages", 1.0))
    print("  cost per message, 2 workers (microseconds of worker time):")
    for stage in STAGES:
        if stage in stages:
            print(f"    {stage:10s} {stages[stage] / messages * 1e6:8.0f}")
    verdict = two >= TARGET_PER_SECOND and two / bare >= TARGET_SHARE_OF_BARE
    print(
        f"  target                    {TARGET_PER_SECOND:.0f} msg/s and "
        f"{TARGET_SHARE_OF_BARE:.0%} of bare -> {'MET' if verdict else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
