"""Click redirect latency under load: 1,000 clicks/s offered by 200 clients.

gunicorn serves Postino with the project's own ``gunicorn.conf.py`` (the web
process production runs), with Redis behind it as in production; an open-loop
client keeps 200 keep-alive connections and sends each request at its
scheduled time (1,000 a second in all), timing it from that moment, so a
slow answer also delays the requests queued behind it (no coordinated
omission). Every request is a signed click link of a campaign's recipient;
every answer must be the 302 to its destination. The reference, in the same
run and the same server, is ``/healthz``'s cheaper sibling: the favicon,
which touches neither Redis nor the database. Target: p99 under 50 ms.

Usage: ``python bench/redirect_latency.py [--rate N] [--clients N] [--seconds N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

ROOT = Path(__file__).resolve().parent.parent

TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def one_client(
    port: int,
    paths: list[str],
    start: float,
    interval: float,
    offset: float,
    until: float,
    latencies: list[float],
    failures: list[str],
    expect: bytes,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    scheduled = start + offset
    index = 0
    try:
        while scheduled < until:
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            path = paths[index % len(paths)]
            index += 1
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: Mozilla/5.0 (X11; Linux "
                "x86_64) Chrome/131.0\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":", 1)[1])
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - scheduled)
            if not head.startswith(expect):
                failures.append(head.split(b"\r\n", 1)[0].decode())
            scheduled += interval
    finally:
        writer.close()


async def load(
    port: int, paths: list[str], *, rate: float, clients: int, seconds: float, expect: bytes
) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    interval = clients / rate  # each client's share of the rate
    start = time.perf_counter() + 0.5
    until = start + seconds
    await asyncio.gather(
        *(
            one_client(
                port,
                paths,
                start,
                interval,
                interval * n / clients,
                until,
                latencies,
                failures,
                expect,
            )
            for n in range(clients)
        )
    )
    return latencies, failures


def summary(name: str, latencies: list[float], seconds: float) -> float:
    ordered = sorted(latencies)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(
        f"{name}: {len(ordered) / seconds:,.0f} answers/s, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, max {ordered[-1] * 1000:.1f} ms"
    )
    return p99


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--redis-db", type=int, default=15)
    args = parser.parse_args()

    url = own_database.recreate("postino_bench_redirect")
    own_database.use(url)
    redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ["REDIS_URL"] = urlunsplit(urlsplit(redis_base)._replace(path=f"/{args.redis_db}"))
    os.environ.update(
        {"DEBUG": "false", "BASE_URL": "http://127.0.0.1", "SECURE_SSL_REDIRECT": "false"}
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from campaigns.models import Campaign
    from postino.redis import redis_client
    from tracking import links, queue

    redis_client().flushdb()
    campaign = Campaign.objects.create(
        name="Bench", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )
    paths = [
        links.click_path(campaign.pk, subscriber, f"https://shop.example/item/{subscriber % 20}")
        for subscriber in range(1, 2001)
    ]
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            "--backlog",
            "2048",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        conf = f"gunicorn.conf.py: {os.environ.get('WEB_CONCURRENCY', '2')} workers"
        print(
            f"{args.rate:,.0f} requests/s offered by {args.clients} clients for "
            f"{args.seconds:.0f} s ({conf})"
        )
        # Warm every process and thread up, on both paths, before timing.
        asyncio.run(load(port, paths, rate=200, clients=20, seconds=2, expect=b"HTTP/1.1 302"))
        asyncio.run(
            load(port, ["/favicon.ico"], rate=200, clients=20, seconds=2, expect=b"HTTP/1.1 200")
        )
        reference, ref_failures = asyncio.run(
            load(
                port,
                ["/favicon.ico"],
                rate=args.rate,
                clients=args.clients,
                seconds=args.seconds,
                expect=b"HTTP/1.1 200",
            )
        )
        summary("reference, the favicon (no Redis, no database)", reference, args.seconds)
        redis_client().delete(queue.QUEUE)
        latencies, failures = asyncio.run(
            load(
                port,
                paths,
                rate=args.rate,
                clients=args.clients,
                seconds=args.seconds,
                expect=b"HTTP/1.1 302",
            )
        )
        p99 = summary("Postino click redirect (verify, queue, 302)", latencies, args.seconds)
        queued = queue.depth()
    finally:
        server.terminate()
        server.wait(10)
        redis_client().flushdb()
    assert not failures and not ref_failures, (failures[:3], ref_failures[:3])
    assert queued == len(latencies), (queued, len(latencies))
    verdict = "MET" if p99 < TARGET_P99_MS else "NOT MET"
    print(f"  every click queued ({queued:,}); target p99 under {TARGET_P99_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
