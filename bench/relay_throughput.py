"""SMTP relay throughput: messages accepted per second, beside a bare aiosmtpd server.

Applications keep their connection: each client process says EHLO, STARTTLS
and AUTH once, then submits message after message (MAIL, RCPT, DATA; a
4 KB order confirmation, text and HTML, one recipient). The relay runs as
it does in production, ``manage.py smtp_relay`` in a process of its own,
and every 250 it gives means the message is committed in PostgreSQL (one
``TxPayload``, one ``TxMessage``; the bench counts them at the end).

The reference, measured in the same run by the same clients: **bare**, an
aiosmtpd server in its own process with the same STARTTLS and AUTH that
accepts every message and stores nothing: what the protocol, TLS and
Python cost before the relay does any work. Both are measured on loopback
and through ``bench/delay_line.py`` as a link 5 ms away (an application in
another data centre of the same region), where each message waits four
round trips (MAIL, RCPT, DATA, the end of data) on each connection.

The bench keeps to its own PostgreSQL database (``postino_bench_relay``,
recreated) and its own Redis database (``--redis-db``, 15 by default;
flushed), so it can run beside the test suite.

Target (issue 12, "Transactional email"): at least 300 messages/s accepted
on loopback on this 2-core machine, printed MET or NOT MET.

Usage: ``python bench/relay_throughput.py [--clients N] [--messages N] [--redis-db D]``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import own_database

ROOT = Path(__file__).resolve().parent.parent
TARGET_PER_SECOND = 300.0
FAR_RTT_MS = 5.0
BENCH_REDIS_DB = 15
USERNAME = "bench"
PASSWORD = "bench-password"
WARM_UP_MESSAGES = 5


@dataclass(frozen=True)
class Run:
    label: str
    accepted: int
    refused: int
    seconds: float
    # CPU seconds the server process used during the run.
    server_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


def order_confirmation(number: int) -> bytes:
    """About 4 KB: what a shop sends after an order, in text and HTML."""
    rows = "".join(
        f"<tr><td>Item {i}: a thing you bought</td><td>{i}.99 EUR</td></tr>\r\n" for i in range(30)
    )
    text = "".join(f"Item {i}: a thing you bought   {i}.99 EUR\r\n" for i in range(30))
    return (
        "From: Shop <orders@shop.example.com>\r\n"
        "To: customer@example.com\r\n"
        f"Subject: Your order {number}\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b1"\r\n'
        "\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Thank you for order {number}.\r\n{text}"
        "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
        f"<html><body><p>Thank you for order {number}.</p><table>\r\n{rows}</table>"
        "</body></html>\r\n--b1--\r\n"
    ).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


# --- the bare reference server ---------------------------------------------------------


def serve_bare(port: int, cert: str, key: str) -> None:
    """aiosmtpd with the relay's STARTTLS and AUTH, accepting everything, storing nothing."""
    import signal

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    class Accept:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            return "250 2.0.0 Ok: queued"

    def accept_login(*args: Any) -> AuthResult:
        return AuthResult(success=True)

    import logging

    # As the relay's command does: aiosmtpd's per-command and per-login noise off.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(
        Accept(),
        hostname="127.0.0.1",
        port=port,
        server_hostname="bare",
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=accept_login,
        decode_data=False,
    )
    controller.start()
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    controller.stop()


# --- the clients -------------------------------------------------------------------------


def client(
    port: int,
    ca_file: str,
    count: int,
    start: Barrier,
    results: multiprocessing.Queue[tuple[int, int, float]],
) -> None:
    """One application: one connection, logged in once, ``count`` messages."""
    context = ssl.create_default_context(cafile=ca_file)
    conn = smtplib.SMTP("127.0.0.1", port, timeout=60)
    conn.starttls(context=context)
    conn.login(USERNAME, PASSWORD)
    messages = [order_confirmation(n) for n in range(count + WARM_UP_MESSAGES)]
    for message in messages[:WARM_UP_MESSAGES]:
        send(conn, message)
    start.wait()
    accepted = refused = 0
    for message in messages[WARM_UP_MESSAGES:]:
        if send(conn, message):
            accepted += 1
        else:
            refused += 1
    results.put((accepted, refused, time.monotonic()))
    conn.quit()


def send(conn: smtplib.SMTP, message: bytes) -> bool:
    if conn.mail("orders@shop.example.com")[0] != 250:
        conn.rset()
        return False
    if conn.rcpt("customer@example.com")[0] != 250:
        conn.rset()
        return False
    return conn.data(message)[0] == 250


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), 0 where unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    label: str, port: int, ca_file: str, clients: int, messages: int, server_pid: int
) -> Run:
    start = multiprocessing.Barrier(clients + 1)
    results: multiprocessing.Queue[tuple[int, int, float]] = multiprocessing.Queue()
    per_client = messages // clients
    processes = [
        multiprocessing.Process(target=client, args=(port, ca_file, per_client, start, results))
        for _ in range(clients)
    ]
    for process in processes:
        process.start()
    start.wait(timeout=120)
    began = time.monotonic()
    cpu_before = cpu_seconds(server_pid)
    outcomes = [results.get(timeout=600) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    ended = max(finished for _, _, finished in outcomes)
    server_cpu = cpu_seconds(server_pid) - cpu_before
    return Run(
        label,
        accepted=sum(a for a, _, _ in outcomes),
        refused=sum(r for _, r, _ in outcomes),
        seconds=ended - began,
        server_cpu=server_cpu,
    )


def start_delay_line(target_port: int) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "delay_line.py"), f"--listen-port={port}",
         f"--target-port={target_port}", f"--rtt-ms={FAR_RTT_MS}"],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, process)
    return process, port


def stop(process: subprocess.Popen[Any] | multiprocessing.Process) -> None:
    process.terminate()
    if isinstance(process, multiprocessing.Process):
        process.join(timeout=10)
    else:
        process.wait(timeout=10)


def report(run: Run, bare: Run) -> None:
    share = run.rate / bare.rate if bare.rate else 0.0
    print(
        f"  {run.label:<20} {run.rate:7.0f} msgs/s  ({run.accepted} in {run.seconds:.2f} s"
        f"{f', {run.refused} refused' if run.refused else ''}; {share:.0%} of bare; "
        f"server CPU {run.server_cpu / max(run.accepted, 1) * 1000:.2f} ms per message)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    # As docker-compose runs it on a machine like this one: a process per core.
    parser.add_argument("--relay-processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--far-messages", type=int, default=1600)
    parser.add_argument("--redis-db", type=int, default=BENCH_REDIS_DB)
    args = parser.parse_args()

    url = own_database.recreate("postino_bench_relay")
    own_database.use(url)
    redis_base = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    redis_url = urlunsplit(urlsplit(redis_base)._replace(path=f"/{args.redis_db}"))
    os.environ["REDIS_URL"] = redis_url

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    call_command("migrate", verbosity=0)
    from postino.redis import redis_client
    from transactional.credentials import hash_password
    from transactional.models import RelayCredential, TxMessage
    from transactional.relay import ensure_dev_certificate

    redis_client().flushdb()
    # A known password, so the client processes need no database.
    RelayCredential.objects.create(
        name="Bench shop",
        username=USERNAME,
        password_hash=hash_password(PASSWORD),
        allowed_from_domains=["shop.example.com"],
    )
    connections.close_all()

    with tempfile.TemporaryDirectory(prefix="postino-relay-bench-") as scratch:
        cert, key = Path(scratch) / "cert.pem", Path(scratch) / "key.pem"
        ensure_dev_certificate(cert, key)
        relay_port, bare_port = free_port(), free_port()
        relay = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "smtp_relay", "--host", "127.0.0.1",
             "--port", str(relay_port), "--tls-cert", str(cert), "--tls-key", str(key),
             "--processes", str(args.relay_processes)],
            env={**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url},
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        bare = multiprocessing.Process(target=serve_bare, args=(bare_port, str(cert), str(key)))
        bare.start()
        far_relay = far_bare = None
        try:
            wait_for_port(relay_port, relay)
            wait_for_port(bare_port)
            print(
                f"SMTP relay ({args.relay_processes} processes), {args.clients} clients each"
                " keeping one connection (STARTTLS + AUTH once), 4 KB messages, one"
                " recipient each:"
            )
            ca = str(cert)
            bare_pid = bare.pid or 0

            def both(bare_port: int, relay_port: int, messages: int, where: str) -> Run:
                bare_run = measure(f"bare aiosmtpd{where}", bare_port, ca, args.clients,
                                   messages, bare_pid)  # fmt: skip
                relay_run = measure(f"Postino relay{where}", relay_port, ca, args.clients,
                                    messages, relay.pid)  # fmt: skip
                report(bare_run, bare_run)
                report(relay_run, bare_run)
                return relay_run

            near = both(bare_port, relay_port, args.messages, "")
            far_relay, far_relay_port = start_delay_line(relay_port)
            far_bare, far_bare_port = start_delay_line(bare_port)
            print(f"Through a link {FAR_RTT_MS:.0f} ms away (bench/delay_line.py):")
            far = both(far_bare_port, far_relay_port, args.far_messages, ", far")
            link_limit = args.clients / (4 * FAR_RTT_MS / 1000)
            print(
                f"  (the link's limit: {args.clients} connections x 4 round trips "
                f"= {link_limit:.0f} msgs/s)"
            )
        finally:
            # The delay lines still hold the last replies for RTT/2: let them
            # through rather than cancel them mid-delivery.
            time.sleep(0.2)
            for process in (far_relay, far_bare, relay, bare):
                if process is not None:
                    stop(process)

    stored = TxMessage.objects.count()
    expected = near.accepted + far.accepted + 2 * args.clients * WARM_UP_MESSAGES
    assert stored == expected, f"{stored} messages stored, {expected} accepted"
    verdict = "MET" if near.rate >= TARGET_PER_SECOND else "NOT MET"
    print(
        f"Every accepted message is in the database ({stored}). "
        f"Target at least {TARGET_PER_SECOND:.0f} msgs/s on loopback: {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
