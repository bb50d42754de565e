"""Transactional API throughput: password resets accepted per second, from outside.

gunicorn serves Postino as production runs it (``gunicorn.conf.py``, its
worker and thread defaults unless ``--workers``/``--threads`` say otherwise,
the access log on), on real PostgreSQL and Redis; ``--clients`` keep-alive
connections each send their next request the moment the last answer is in
(``bench/http_load.py``). Every request is ``POST /api/v1/tx`` with a bearer
token: one recipient, never the same twice, a stored password-reset template
(its category exempt from unsubscribes, as the category's help says a
password reset's is) and the data it needs. Every other recipient is one of
``--subscribers`` subscribers. Only 202 answers count; anything else is an
error, reported. Each send stores its message and payload and, after the
commit, wakes the transactional worker through Redis; no worker runs, so the
drain tasks wait in the queue, counted at the end.

The reference, in the same run against the same server and clients, is the
cheapest authenticated call: ``GET /api/v1/tx/<id>`` of one message (the
token's lookup and one row). The ratio says how many of the server's
requests one send costs. The CPU the web workers, the bench database's
PostgreSQL backends and the client itself used per request is printed too:
the client shares the machine's cores with the server.

Target: at least 500 sends/s on a 2-core machine.

Usage: ``python bench/tx_api.py [--clients N] [--seconds N] [--warmup N]
[--subscribers N] [--workers N] [--threads N] [--redis-db N]``. It uses its
own database (``postino_bench_tx``, recreated) and Redis database (flushed).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import runpy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import http_load, own_database
from bench.send_throughput import bench_redis_url, cpu_seconds, verdict

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "postino_bench_tx"
TARGET_SENDS_PER_SECOND = 500.0

RESET_SUBJECT = "Reset your password, {{ name }}"
RESET_HTML = """<!doctype html>
<html><head><style>
  body { font-family: Helvetica, Arial, sans-serif; color: #222; }
  .card { max-width: 480px; margin: 0 auto; padding: 24px; border: 1px solid #ddd; }
  .button { display: inline-block; padding: 12px 20px; background: #0b5; color: #fff; }
  .small { font-size: 12px; color: #777; }
</style></head>
<body><div class="card">
  <h1>Hello {{ name }},</h1>
  <p>Someone asked to reset the password of the account {{ recipient.email }}.
     If it was you, choose a new one within {{ valid_minutes }} minutes:</p>
  <p><a class="button" href="{{ reset_url }}">Choose a new password</a></p>
  <p>Or paste this link into your browser: {{ reset_url }}</p>
  <p class="small">If you did not ask, ignore this message: your password stays as it is.
     Asked from {{ ip }} at {{ requested_at }}.</p>
</div></body></html>
"""


@dataclass
class Measured:
    load: http_load.Load
    # CPU seconds used during the run: web workers, PostgreSQL backends, this client.
    cpu: dict[str, float]

    def ms_per_answer(self, part: str) -> float:
        answers = sum(self.load.statuses.values())
        return self.cpu[part] / answers * 1000 if answers else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--subscribers", type=int, default=50_000)
    parser.add_argument("--workers", type=int, help="WEB_CONCURRENCY (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="WEB_THREADS (default: gunicorn.conf.py's)")
    parser.add_argument("--redis-db", type=int, default=15)
    args = parser.parse_args()

    own_database.use(own_database.recreate(DATABASE))
    os.environ["REDIS_URL"] = bench_redis_url(args.redis_db)
    os.environ.update(
        {"DEBUG": "false", "BASE_URL": "http://127.0.0.1", "SECURE_SSL_REDIRECT": "false"}
    )
    # The server's size is the shipped default unless asked: not the caller's environment.
    for name, value in (("WEB_CONCURRENCY", args.workers), ("WEB_THREADS", args.threads)):
        os.environ.pop(name, None)
        if value is not None:
            os.environ[name] = str(value)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from postino.redis import redis_client

    redis_client().flushdb()
    try:
        return run(args, conf)
    finally:
        redis_client().flushdb()


def run(args: argparse.Namespace, conf: dict[str, object]) -> int:
    from django.contrib.auth.models import User
    from django.db import connection

    from api.services import create_token
    from postino.jobs import TX_QUEUE
    from postino.redis import redis_client
    from subscribers.models import Subscriber
    from transactional import services
    from transactional.models import Category, TxMessage, TxTemplate

    user = User.objects.create_user("bench-app", is_staff=True)
    headers = {"Authorization": f"Bearer {create_token(user=user, name='bench')}"}
    category = Category.objects.create(name="password-reset", exempt_from_unsubscribes=True)
    template = TxTemplate.objects.create(
        name="Password reset", subject=RESET_SUBJECT, html=RESET_HTML, category=category
    )
    Subscriber.objects.bulk_create(
        (Subscriber(email=address(n), name=f"User {n}") for n in range(0, args.subscribers * 2, 2)),
        batch_size=5000,
    )
    first = services.send(
        services.SendRequest(
            to=[services.Recipient(email="first@example.com")],
            template_id=template.pk,
            data=reset_data(0),
        ),
        scope=f"user:{user.pk}",
    )
    status_path = f"/api/v1/tx/{first.messages[0].id}"
    recipients = itertools.count()

    def send(_n: int) -> bytes:
        n = next(recipients)
        body = {"to": [address(n)], "template": template.pk, "data": reset_data(n)}
        return http_load.post_json("/api/v1/tx", headers, json.dumps(body).encode())

    def status(_n: int) -> bytes:
        return http_load.get(status_path, headers)

    def send_batch(_n: int) -> bytes:
        # One call for a receipt going to several people (the API's "to" list).
        to = [address(next(recipients)) for _ in range(BATCH)]
        body = {"to": to, "template": template.pk, "data": reset_data(0)}
        return http_load.post_json("/api/v1/tx", headers, json.dumps(body).encode())

    cores = os.cpu_count() or 1
    load_before = os.getloadavg()[0]
    with http_load.gunicorn(os.environ) as server:
        # Every process and thread imported, connected and compiled before timing.
        for request, expect in ((send, 202), (status, 200)):
            http_load.closed_loop(
                server.port, request, clients=args.clients, seconds=args.warmup, expect=expect
            )
        reference = measure(server, status, args, 200)
        sent = measure(server, send, args, 202)
        batched = measure(server, send_batch, args, 202)
    load_after = os.getloadavg()[0]
    stored = TxMessage.objects.count()
    distinct = TxMessage.objects.values("email").distinct().count()
    drains = redis_client().llen(TX_QUEUE)
    connection.close()

    print(
        f"Transactional API: {args.clients} keep-alive clients, {args.seconds:.0f} s per figure "
        f"after {args.warmup:.0f} s of warm-up"
    )
    print(
        f"  server: gunicorn.conf.py, {conf['workers']} workers x {conf['threads']} threads "
        f"({conf['worker_class']}; WEB_CONCURRENCY, WEB_THREADS), access log on; {cores} cores, "
        f"load average {load_before:.1f} before, {load_after:.1f} after"
    )
    summary("reference, GET /api/v1/tx/<id> (token, one row)", reference, 200)
    summary("Postino send, POST /api/v1/tx (check, render, store, wake)", sent, 202)
    print(
        "  CPU per request (web workers / PostgreSQL / client): "
        f"reference {cpu_line(reference)}; send {cpu_line(sent)} ms"
    )
    print(
        f"  at that CPU, {cores} cores serve at most (web workers and PostgreSQL alone): "
        f"reference {ceiling(reference, cores):,.0f}/s, send {ceiling(sent, cores):,.0f}/s"
    )
    batch_rate = batched.load.per_second(202) * BATCH
    print(
        f"  sends of {BATCH} recipients each: {batch_rate:,.0f} messages/s "
        f"({batched.load.per_second(202):,.0f} calls/s; CPU {cpu_line(batched)} ms per call)"
    )
    rate = sent.load.per_second(202)
    ratio = reference.load.per_second(200) / rate if rate else float("inf")
    print(f"  a send costs the server {ratio:.1f} reference requests")
    errors = (
        sent.load.unexpected(202) + reference.load.unexpected(200) + batched.load.unexpected(202)
    )
    assert stored == distinct, (stored, distinct)
    print(
        f"  {stored:,} messages stored, each to its own recipient; {drains} drain tasks queued; "
        f"{errors} errors; target at least {TARGET_SENDS_PER_SECOND:,.0f} sends/s: "
        f"{verdict(rate >= TARGET_SENDS_PER_SECOND and errors == 0)}"
    )
    return 0


# Recipients of one call in the batch figure.
BATCH = 10


def address(n: int) -> str:
    return f"user{n}@example.com"


def reset_data(n: int) -> dict[str, object]:
    """What an application gives a password reset."""
    return {
        "name": f"User {n}",
        "reset_url": f"https://app.example/reset/{n:08d}-b1946ac92492d2347c6235b4d2611184",
        "valid_minutes": 30,
        "ip": "203.0.113.7",
        "requested_at": "2026-12-03 13:30 UTC",
    }


def measure(
    server: http_load.Server, request: Callable[[int], bytes], args: argparse.Namespace, expect: int
) -> Measured:
    backends = postgres_backends()
    web = server.pids()
    before = {"web": cpu_seconds(web), "db": cpu_seconds(backends), "client": own_cpu()}
    load = http_load.closed_loop(
        server.port, request, clients=args.clients, seconds=args.seconds, expect=expect
    )
    after = {"web": cpu_seconds(web), "db": cpu_seconds(backends), "client": own_cpu()}
    return Measured(load, {part: after[part] - before[part] for part in before})


def postgres_backends() -> list[int]:
    """The server processes of the web workers' connections to the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def summary(name: str, measured: Measured, expect: int) -> None:
    load = measured.load
    failures = f" (first: {load.failures[0]})" if load.failures else ""
    print(
        f"{name}: {load.per_second(expect):,.0f} answers/s, p50 {load.percentile_ms(0.5):.1f} ms, "
        f"p99 {load.percentile_ms(0.99):.1f} ms; {load.unexpected(expect)} errors{failures}"
    )


def ceiling(measured: Measured, cores: int) -> float:
    """Requests per second if the server's CPU per request were all that limited it:
    the figure a machine gives when nothing else (another suite, the client) uses its cores."""
    ms = measured.ms_per_answer("web") + measured.ms_per_answer("db")
    return cores * 1000 / ms if ms else 0.0


def cpu_line(measured: Measured) -> str:
    return " / ".join(f"{measured.ms_per_answer(part):.2f}" for part in ("web", "db", "client"))


if __name__ == "__main__":
    raise SystemExit(main())
