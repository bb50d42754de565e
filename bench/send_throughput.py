"""End-to-end send throughput: `make bench`.

Sends personalised campaigns through the real pipeline (PostgreSQL ledger,
Celery worker processes over Redis, Jinja2 sandbox render, MIME build, DKIM,
pooled SMTP) into a local SMTP sink, and prints messages per second beside
references measured in the same run:

* **Loopback**, DKIM-signed (RSA-2048) with one worker process and with two,
  and unsigned with two (the From domain has no sending domain), each beside
  a bare ``smtplib`` loop over one connection sending a message of the same
  size, plus where the worker time goes per message.
* **A server 20 ms away**: the same sink behind ``bench/delay_line.py``
  (bytes held RTT/2 each way), the SMTP server's ``max_connections`` at 50,
  signed and unsigned, beside the link's limit (connections / (RTT x round
  trips per message), for the 2 round trips a message takes with PIPELINING
  and the 4 without), a bare smtplib loop over one connection
  through the same link, the most connections we held open, and each worker
  process's memory (VmRSS) sampled during the run.
* **An ESP channel** (Postmark through anymail) whose API, ``bench/fake_esp.py``
  on loopback, answers each call after 50 ms, ``max_connections`` 50, beside
  the most calls the fake saw in flight at once.
* **The peer reference**: django-post-office sending the same newsletter to
  the same sink, on loopback and over the link, beside our unsigned figure
  (``bench/peer_post_office.py`` says how it is measured).

The sink is Postfix's ``smtp-sink`` when installed (Debian package
``postfix``), else ``bench/sink.py``, which is as fast on this machine.

The bench keeps to its own PostgreSQL database (``postino_bench``, recreated)
and its own Redis database (``--redis-db``, 15 by default; flushed), so it can
run beside the test suite, which flushes its own.

Targets (issue 8, "Delivery engine, second pass"), printed MET or NOT MET:
at least 800 signed messages/s with two workers on loopback and 35 % of the
bare smtplib rate; at least 600 signed messages/s over the 20 ms link; at
least 400 messages/s through the ESP answering after 50 ms; worker RSS under
300 MB per process.
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
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LOOPBACK_TARGET_PER_SECOND = 800.0
LOOPBACK_TARGET_SHARE_OF_BARE = 0.35
FAR_TARGET_PER_SECOND = 600.0
ESP_TARGET_PER_SECOND = 400.0
ESP_DELAY_MS = 50.0
ESP_CONNECTIONS = 50
RSS_TARGET_MB = 300.0
FAR_RTT_MS = 20.0
FAR_CONNECTIONS = 50
LOOPBACK_CONNECTIONS = 4
# Round trips per message: without PIPELINING, MAIL, RCPT, DATA and the end of
# data each wait for a reply; with it, MAIL+RCPT+DATA go in one, the body in another.
ROUND_TRIPS_UNPIPELINED = 4
ROUND_TRIPS_PIPELINED = 2
BENCH_REDIS_DB = 15
STAGES = ("audience", "setup", "render", "gate", "transmit", "ledger", "control", "throttled")


@dataclass
class Run:
    label: str
    workers: int
    sent: int
    elapsed: float
    stages: dict[str, float]
    max_slots_in_use: int = 0
    # (worker number, pid, role) -> highest VmRSS seen, in kB
    rss_kb: dict[tuple[int, int, str], int] = field(default_factory=dict)
    # CPU seconds used during the run by the workers, the sink, the delay line
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
    return urlunsplit(urlsplit(base)._replace(path="/postino_bench"))


def bench_redis_url(db: int) -> str:
    """The Redis of ``REDIS_URL`` (host, port, password), but the bench's own
    database: a test's ``flushdb`` must not wedge a running bench, nor the
    bench's flush wipe a test's broker queue."""
    if db in (0, 14):
        raise SystemExit(f"Redis db {db} belongs to a developer's Postino (0) or the tests (14)")
    base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    return urlunsplit(urlsplit(base)._replace(path=f"/{db}"))


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


def start_delay_line(listen_port: int, target_port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "bench" / "delay_line.py"),
            f"--listen-port={listen_port}",
            f"--target-port={target_port}",
            f"--rtt-ms={FAR_RTT_MS}",
        ],
        stdout=subprocess.DEVNULL,
    )
    wait_for_port(listen_port)
    return process


def start_fake_esp(port: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "fake_esp.py"), f"--port={port}",
         f"--delay-ms={ESP_DELAY_MS}"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for_port(port)
    return process


def stop_fake_esp(process: subprocess.Popen[str]) -> str:
    """Stop it and return its last line (calls and the most in flight)."""
    process.terminate()
    output, _ = process.communicate(timeout=10)
    lines = output.strip().splitlines()
    return lines[-1] if lines else "no report"


def bare_smtplib_rate(port: int, message: bytes, count: int, *, tries: int = 1) -> float:
    """A plain smtplib loop over one connection; the best of ``tries`` runs,
    since a second-long loop on a shared machine is easily disturbed."""
    best = 0.0
    for _ in range(tries):
        conn = smtplib.SMTP("127.0.0.1", port)
        conn.ehlo()
        started = time.perf_counter()
        for i in range(count):
            conn.sendmail("bench@example.com", [f"r{i}@example.org"], message)
        elapsed = time.perf_counter() - started
        conn.quit()
        best = max(best, count / elapsed)
    return best


def process_tree(pid: int) -> list[int]:
    """A worker and its prefork children (Linux /proc)."""
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return pids
    for child in children:
        pids.extend(process_tree(int(child)))
    return pids


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time the processes have used so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def harness_cpu(
    workers: list[subprocess.Popen[bytes]], sink: subprocess.Popen[bytes],
    delay_line: subprocess.Popen[bytes], fake_esp: subprocess.Popen[str],
) -> dict[str, float]:  # fmt: skip
    worker_pids = [pid for worker in workers for pid in process_tree(worker.pid)]
    return {
        "workers": cpu_seconds(worker_pids),
        "sink": cpu_seconds(process_tree(sink.pid)),
        "delay line": cpu_seconds([delay_line.pid]),
        "fake ESP": cpu_seconds([fake_esp.pid]),
    }


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # The sizes the issue measured: 10,000 on loopback, 2,000 over the far link.
    parser.add_argument("--recipients", type=int, default=10000, help="per loopback run")
    parser.add_argument(
        "--far-recipients", type=int, default=2000, help="per run through the 20 ms link"
    )
    parser.add_argument("--esp-recipients", type=int, default=2000, help="through the fake ESP")
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    parser.add_argument(
        "--no-peer", action="store_true", help="skip the django-post-office reference runs"
    )
    args = parser.parse_args()

    redis_url = bench_redis_url(args.redis_db)  # refuses before anything is dropped
    database_url = bench_database_url()
    recreate_database(database_url)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
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
    from delivery.domains import create_sending_domain
    from delivery.models import Delivery, SmtpServer
    from delivery.pipeline.chunk import STAGES_KEY
    from delivery.pipeline.prepare import MessageFactory
    from delivery.pipeline.slots import ConnectionSlots
    from delivery.services import create_esp_server, create_smtp_server
    from postino.redis import redis_client
    from subscribers.models import MailingList, Subscriber, Subscription

    redis_client().flushdb()
    port = free_port()
    sink, sink_name = start_sink(port)
    far_port = free_port()
    delay_line = start_delay_line(far_port, port)
    esp_port = free_port()
    fake_esp = start_fake_esp(esp_port)
    esp_report = ""
    logs = Path(tempfile.mkdtemp(prefix="postino-bench-"))
    workers: list[subprocess.Popen[bytes]] = []
    runs: list[Run] = []
    try:
        # Signed mail comes from example.com (it has a sending domain with an
        # RSA-2048 key); unsigned from a domain with none, as in the issue.
        create_sending_domain(domain="example.com", generate_rsa=True, generate_ed25519=False)
        near = create_smtp_server(
            name="Sink", host="127.0.0.1", port=port, security="none",
            max_connections=LOOPBACK_CONNECTIONS, messages_per_second=100000,
        )  # fmt: skip
        far = create_smtp_server(
            name=f"Sink {FAR_RTT_MS:g} ms away", host="127.0.0.1", port=far_port,
            security="none", max_connections=FAR_CONNECTIONS, messages_per_second=100000,
        )  # fmt: skip
        esp = create_esp_server(
            name=f"ESP answering after {ESP_DELAY_MS:g} ms", esp="postmark",
            credentials={"server_token": "bench", "api_url": f"http://127.0.0.1:{esp_port}/"},
            max_connections=ESP_CONNECTIONS, messages_per_second=100000,
        )  # fmt: skip
        html = (ROOT / "bench" / "newsletter.html").read_text()

        def make_campaign(label: str, count: int, server: SmtpServer, *, signed: bool) -> Campaign:
            mailing_list = MailingList.objects.create(name=label)
            subscribers = Subscriber.objects.bulk_create(
                [
                    Subscriber(
                        email=f"{label}-{i}@example.org", name=f"Reader {i}", attributes={"n": i}
                    )
                    for i in range(count)
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
            sender = "bench@example.com" if signed else "bench@unsigned.example.net"
            return create_campaign(
                name=label, subject="News for {{ subscriber.name }}",
                from_email=f"Bench <{sender}>", html=html,
                lists=[mailing_list], smtp_server=server,
            )  # fmt: skip

        n_near, n_far = args.recipients, args.far_recipients
        scenarios = [
            ("loopback, signed", 1, make_campaign("near-s1", n_near, near, signed=True)),
            ("loopback, signed", 2, make_campaign("near-s2", n_near, near, signed=True)),
            ("loopback, unsigned", 2, make_campaign("near-u2", n_near, near, signed=False)),
            ("20 ms away, signed", 2, make_campaign("far-s2", n_far, far, signed=True)),
            ("20 ms away, unsigned", 2, make_campaign("far-u2", n_far, far, signed=False)),
            # The ESP signs with its own DKIM: one run.
            ("ESP, 50 ms API", 2, make_campaign("esp-2", args.esp_recipients, esp, signed=True)),
        ]

        # The bare loops send messages of the same size as ours, built once.
        def sample_message(campaign: Campaign) -> bytes:
            probe = Subscriber.objects.filter(
                subscriptions__mailing_list__campaigns=campaign
            ).first()
            assert probe is not None
            factory = MessageFactory(campaign)
            return factory.as_bytes(factory.prepare(subscriber=probe, delivery_id=1))

        signed_message = sample_message(scenarios[0][2])
        unsigned_message = sample_message(scenarios[2][2])
        bare = {
            "signed": bare_smtplib_rate(port, signed_message, 2000, tries=3),
            "unsigned": bare_smtplib_rate(port, unsigned_message, 2000, tries=3),
        }
        # One connection through the link: shows the link costs what we say
        # (about 1 / (RTT x 4) messages a second).
        bare_far = bare_smtplib_rate(far_port, signed_message, 40)

        for label, count, campaign in scenarios:
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
                time.sleep(4)  # let the worker connect before the clock starts
            assert campaign.smtp_server is not None
            slots = ConnectionSlots(campaign.smtp_server.pk, campaign.smtp_server.max_connections)
            redis_client().delete(STAGES_KEY)
            run = Run(label=label, workers=count, sent=0, elapsed=0.0, stages={})
            cpu_before = harness_cpu(workers, sink, delay_line, fake_esp)
            started = time.perf_counter()
            start_campaign(campaign=campaign)
            next_sample = 0.0
            while True:
                campaign.refresh_from_db()
                if campaign.status == Campaign.Status.FINISHED:
                    break
                if any(worker.poll() is not None for worker in workers):
                    raise RuntimeError(f"a worker died; see {logs}")
                now = time.perf_counter()
                if now >= next_sample:
                    next_sample = now + 0.5
                    run.max_slots_in_use = max(run.max_slots_in_use, slots.in_use())
                    for number, worker in enumerate(workers, 1):
                        for pid in process_tree(worker.pid):
                            role = "main" if pid == worker.pid else "prefork child (sends)"
                            seen = run.rss_kb.get((number, pid, role), 0)
                            run.rss_kb[(number, pid, role)] = max(seen, rss_kb(pid))
                time.sleep(0.05)
            run.elapsed = time.perf_counter() - started
            cpu_after = harness_cpu(workers, sink, delay_line, fake_esp)
            run.cpu = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
            run.sent = Delivery.objects.filter(campaign=campaign, status="sent").count()
            run.stages = {
                key.decode(): float(value)
                for key, value in redis_client().hgetall(STAGES_KEY).items()
            }
            runs.append(run)

        from bench.peer_post_office import LINKS, measure_post_office, report_peer

        # The peer reference: the same newsletter through django-post-office,
        # to the same sink and the same link, as many recipients as ours had.
        peer = {}
        if not args.no_peer:
            peer = {
                LINKS[0]: measure_post_office(port=port, count=n_near, html=html),
                LINKS[1]: measure_post_office(port=far_port, count=n_far, html=html),
            }
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
        delay_line.terminate()
        delay_line.wait(10)
        esp_report = stop_fake_esp(fake_esp)
        sink.terminate()
        sink.wait(10)

    report(runs, bare, bare_far, sink_name, len(signed_message), len(unsigned_message))
    report_esp(next(run for run in runs if run.label.startswith("ESP")), esp_report)
    if peer:
        report_peer(peer, runs)


def report(
    runs: list[Run],
    bare: dict[str, float],
    bare_far: float,
    sink_name: str,
    signed_size: int,
    unsigned_size: int,
) -> None:
    near = [run for run in runs if run.label.startswith("loopback")]
    far = [run for run in runs if run.label.startswith("20 ms")]
    print()
    print("Postino send throughput: personalised messages, end to end")
    print(f"  sink                      {sink_name}")
    print(f"  message size              {signed_size:,} bytes signed, {unsigned_size:,} unsigned")
    print()
    print("  Loopback")
    print(f"  bare smtplib, 1 conn      {bare['signed']:8.1f} msg/s signed-size message,"
          f" {bare['unsigned']:.1f} unsigned-size (best of 3; same sink, same run)")  # fmt: skip
    for run in near:
        reference = bare["unsigned" if "unsigned" in run.label else "signed"]
        print(
            f"  {run.label:20s} {run.workers} worker(s) {run.rate:8.1f} msg/s"
            f"  ({run.sent} in {run.elapsed:.2f} s, {run.rate / reference:.0%} of bare)"
        )
    signed_one = next(run for run in near if run.workers == 1)
    signed_two = next(run for run in near if run.workers == 2 and "unsigned" not in run.label)
    print(f"  scaling 1 -> 2 workers    {signed_two.rate / signed_one.rate:8.2f}x (signed)")
    print_cpu(signed_two)
    messages = max(1.0, signed_two.stages.get("messages", 1.0))
    print("  cost per message, signed, 2 workers (microseconds of worker time):")
    for stage in STAGES:
        if stage in signed_two.stages:
            print(f"    {stage:10s} {signed_two.stages[stage] / messages * 1e6:8.0f}")
    share = signed_two.rate / bare["signed"]
    met = signed_two.rate >= LOOPBACK_TARGET_PER_SECOND and share >= LOOPBACK_TARGET_SHARE_OF_BARE
    print(
        f"  target                    {LOOPBACK_TARGET_PER_SECOND:.0f} signed msg/s with 2 workers"
        f" and {LOOPBACK_TARGET_SHARE_OF_BARE:.0%} of bare -> {verdict(met)}"
        f" ({signed_two.rate:.0f} msg/s, {share:.0%})"
    )
    print()
    rtt = FAR_RTT_MS / 1000
    print(
        f"  {FAR_RTT_MS:g} ms round trip (bench/delay_line.py), max_connections {FAR_CONNECTIONS}"
    )
    print(f"  campaign size             {far[0].sent:,} per run (--far-recipients)")
    print(
        f"  limit of the link         {FAR_CONNECTIONS / (rtt * ROUND_TRIPS_PIPELINED):8.1f} msg/s"
        f" = {FAR_CONNECTIONS} connections / ({FAR_RTT_MS:g} ms x {ROUND_TRIPS_PIPELINED} round"
        " trips a message, with PIPELINING)"
    )
    print(
        f"                            {FAR_CONNECTIONS / (rtt * ROUND_TRIPS_UNPIPELINED):8.1f}"
        " msg/s"
        f" at {ROUND_TRIPS_UNPIPELINED} round trips (without PIPELINING)"
    )
    print(
        f"  bare smtplib, 1 conn      {bare_far:8.1f} msg/s"
        f"  (1 / (RTT x {ROUND_TRIPS_UNPIPELINED}) = {1 / (rtt * ROUND_TRIPS_UNPIPELINED):.1f};"
        " smtplib does not pipeline)"
    )
    for run in far:
        print(
            f"  {run.label:20s} {run.workers} worker(s) {run.rate:8.1f} msg/s"
            f"  ({run.sent} in {run.elapsed:.1f} s; at most {run.max_slots_in_use}"
            f" of {FAR_CONNECTIONS} connections open)"
        )
    far_signed = next(run for run in far if "unsigned" not in run.label)
    print_cpu(far_signed)
    print(
        f"  target                    {FAR_TARGET_PER_SECOND:.0f} signed msg/s -> "
        f"{verdict(far_signed.rate >= FAR_TARGET_PER_SECOND)} ({far_signed.rate:.0f} msg/s)"
    )
    print("  worker memory (VmRSS, highest seen during the signed run over the link):")
    for (number, pid, role), kb in sorted(far_signed.rss_kb.items()):
        print(f"    worker {number}, pid {pid:<8d} {kb / 1024:8.1f} MB  {role}")
    highest = max(far_signed.rss_kb.values(), default=0) / 1024
    print(
        f"  target                    under {RSS_TARGET_MB:.0f} MB per process -> "
        f"{verdict(0 < highest < RSS_TARGET_MB)} (highest {highest:.1f} MB,"
        f" with up to {far_signed.max_slots_in_use} connections open)"
    )


def print_cpu(run: Run) -> None:
    """Where the machine's cores went: the sink and the delay line run on the
    same cores as the workers, so what they use is not Postino's to spend."""
    cores = os.cpu_count() or 1
    spent = ", ".join(f"{name} {seconds / run.elapsed:.0%}" for name, seconds in run.cpu.items())
    print(f"  CPU during {run.label!r:24s} {spent} of one core ({cores} cores)")


def report_esp(run: Run, fake_report: str) -> None:
    print()
    print(f"  ESP channel (Postmark via anymail), API answering after {ESP_DELAY_MS:g} ms,"
          f" max_connections {ESP_CONNECTIONS}")  # fmt: skip
    print(
        f"  {run.label:20s} {run.workers} worker(s) {run.rate:8.1f} msg/s"
        f"  ({run.sent} in {run.elapsed:.1f} s; the fake ESP: {fake_report})"
    )
    print_cpu(run)
    print(
        f"  limit at {ESP_CONNECTIONS} calls in flight  "
        f"{ESP_CONNECTIONS / (ESP_DELAY_MS / 1000):8.1f} msg/s"
    )
    print(
        f"  target                    {ESP_TARGET_PER_SECOND:.0f} msg/s -> "
        f"{verdict(run.rate >= ESP_TARGET_PER_SECOND)} ({run.rate:.0f} msg/s)"
    )


if __name__ == "__main__":
    main()
