"""The peer reference for ``make bench``: the same newsletter sent by django-post-office.

django-post-office is the Django app a team would pick instead of Postino: it
queues mail in a database table and a ``send_queued_mail`` command (run from
cron) sends it with a pool of processes, each with a pool of threads, each
thread holding one connection through Django's SMTP backend. Its figure, in
the same run, to the same sink, on loopback and through the same 20 ms delay
line, says whether Postino is ahead of what a user could otherwise have.

How one figure is measured (``measure_post_office``):

* A subprocess of its own, with ``DJANGO_SETTINGS_MODULE`` set to
  ``bench/post_office_settings.py`` (only the ``post_office`` app, Django's SMTP
  backend to the given port, no TLS), since the bench process has set Django
  up with Postino's settings and one process holds one set.
* It recreates its own database (``postino_bench_peer`` on the server of
  ``DATABASE_URL``) and migrates it.
* The bench newsletter (``bench/newsletter.html``, Jinja2) becomes a
  post_office ``EmailTemplate`` in Django's template language: the layout is
  rendered once with the per-recipient values left as ``{{ name }}``,
  ``{{ number }}`` and the three link variables, and the text part is derived
  from it by the same HTML-to-text conversion Postino uses. Each of the N
  emails is queued (``mail.send_many``, not sent at queue time) to its own
  ``Reader i <peer-i@example.org>`` with its own context and
  ``List-Unsubscribe`` headers, with ``render_on_delivery``, so that, as in
  Postino's timed run, every message is rendered and built while sending.
* ``python -m django send_queued_mail --processes 2`` then runs as a
  subprocess (threads per process: post_office's default, 5, or the figure
  given). The clock runs from its launch until the ``Email`` rows' status
  counts show every message sent; the command's own start-up (interpreter,
  ``django.setup()``, the lock file: the quicker of two runs on the empty
  queue) is taken off, as Postino's workers are started before its clock.
  Anything failed or left unsent raises.

Everything else is post_office's default (batches of 100, a ``Log`` row per
message). It does not DKIM-sign, so ``report_peer`` sets it beside Postino's
unsigned figure: "Postino ahead: MET" when that is the higher.

Run on its own (``python bench/peer_post_office.py [--recipients 2000]
[--far-recipients 500] [--threads 5]``) it starts the sink and the delay line
itself and prints the peer's figures alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SETTINGS_MODULE = "bench.post_office_settings"
PEER_DATABASE = "postino_bench_peer"
DEFAULT_THREADS = 5  # post_office's THREADS_PER_PROCESS default
DEFAULT_PROCESSES = 2
CHILD_FLAG = "--measure-in-this-process"
QUEUE_BATCH = 1000
LINKS = ("loopback", "20 ms away")  # the prefixes of the bench's run labels
SENDER = "Bench <bench@unsigned.example.net>"
BASE_URL = "https://postino.example.com"


@dataclass(frozen=True)
class PeerRun:
    sent: int
    elapsed: float  # launch of send_queued_mail until every message showed as sent
    startup: float  # the same command on an empty queue
    message_size: int
    processes: int
    threads: int

    @property
    def rate(self) -> float:
        return self.sent / max(self.elapsed - self.startup, 1e-9)


class PostinoRun(Protocol):
    """What ``report_peer`` reads of the bench's own ``Run``."""

    label: str
    workers: int

    @property
    def rate(self) -> float: ...


def peer_database_url(name: str = PEER_DATABASE) -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
    return urlunsplit(urlsplit(base)._replace(path=f"/{name}"))


def measure_post_office(
    *,
    port: int,
    count: int,
    html: str,
    threads: int = DEFAULT_THREADS,
    processes: int = DEFAULT_PROCESSES,
    database_url: str | None = None,
) -> PeerRun:
    """Queue ``count`` personalised copies of ``html`` (the bench newsletter's
    Jinja2 source) in django-post-office and time ``send_queued_mail`` sending
    them to the SMTP server on 127.0.0.1:``port``. Runs in a subprocess."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": SETTINGS_MODULE,
            "PEER_DATABASE_URL": database_url or peer_database_url(),
            "PEER_SMTP_PORT": str(port),
            "PEER_THREADS": str(threads),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        }
    )
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), CHILD_FLAG,
         f"--count={count}", f"--processes={processes}"],
        input=html, capture_output=True, text=True, env=env, cwd=ROOT,
        timeout=120 + count / 10,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"the post_office peer run failed:\n{result.stderr}")
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    return PeerRun(threads=threads, processes=processes, **figures)


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        database = sql.Identifier(name)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(database))


def django_template(newsletter: str) -> tuple[str, str]:
    """(HTML, text) of the newsletter in Django's template language.

    Jinja2 renders the layout once (its loop and list literal have no Django
    spelling) with each per-recipient value replaced by a Django variable, so
    post_office renders what differs per recipient, as a user of it would."""
    import jinja2

    from campaigns.html_to_text import html_to_text

    # No autoescape: the values are Django template tags that must come out as
    # written; the template is the bench's own file.
    environment = jinja2.Environment(autoescape=False)  # noqa: S701
    html = environment.from_string(newsletter).render(
        subscriber={"name": "{{ name }}", "attributes": {"n": "{{ number }}"}},
        unsubscribe_url="{{ unsubscribe_url }}",
        preferences_url="{{ preferences_url }}",
        webview_url="{{ webview_url }}",
    )
    return html, html_to_text(html)


def recipient(number: int) -> tuple[dict[str, Any], dict[str, str]]:
    """(context, headers) for one recipient, links unique to them as Postino's are."""
    address = f"peer-{number}@example.org"
    token = hashlib.sha256(address.encode()).hexdigest()[:43]
    links = {
        "unsubscribe_url": f"{BASE_URL}/u/{token}/",
        "preferences_url": f"{BASE_URL}/p/{token}/",
        "webview_url": f"{BASE_URL}/w/{token}/",
    }
    context = {"name": f"Reader {number}", "number": number, "email": address, **links}
    headers = {
        "List-Unsubscribe": f"<{BASE_URL}/u/{token}/one-click/>, "
        f"<mailto:unsubscribe+{token}@bounces.example.net>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return context, headers


def send_queued_mail(processes: int, lockfile: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "django", "send_queued_mail",
             f"--processes={processes}", f"--lockfile={lockfile}"],
            cwd=ROOT, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def measure_in_this_process(*, count: int, processes: int, newsletter: str) -> dict[str, Any]:
    """The subprocess's side: set up, queue, time the command. Needs the
    ``PEER_*`` environment and ``DJANGO_SETTINGS_MODULE`` the parent sets."""
    recreate_database(os.environ["PEER_DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command
    from django.db.models import Count, Q
    from post_office import mail
    from post_office.models import STATUS, Email, EmailTemplate

    call_command("migrate", verbosity=0)
    work = Path(tempfile.mkdtemp(prefix="postino-bench-peer-"))
    lockfile, log = work / "post_office", work / "send_queued_mail.log"

    # The command's fixed cost, on an empty queue: Postino's clock starts with
    # its workers already up, so this is taken off the peer's time. The
    # quicker of two runs, since a busy machine only ever adds to it.
    startups = []
    for _ in range(2):
        started = time.perf_counter()
        if send_queued_mail(processes, lockfile, log).wait() != 0:
            raise RuntimeError(f"send_queued_mail failed; see {log}")
        startups.append(time.perf_counter() - started)
    startup = min(startups)

    html, text = django_template(newsletter)
    template = EmailTemplate.objects.create(
        name="newsletter", subject="News for {{ name }}", content=text, html_content=html
    )
    for first in range(0, count, QUEUE_BATCH):
        batch = []
        for number in range(first, min(first + QUEUE_BATCH, count)):
            context, headers = recipient(number)
            batch.append(
                {
                    "recipients": [f"Reader {number} <{context['email']}>"],
                    "sender": SENDER,
                    "template": template,
                    "context": context,
                    "headers": headers,
                    "render_on_delivery": True,
                }
            )
        mail.send_many(batch)
    probe = Email.objects.select_related("template").first()
    assert probe is not None
    # Built in memory only: nothing is saved, the row stays queued.
    message_size = len(probe.prepare_email_message().message().as_bytes())

    counts = {"sent": 0, "done": 0}
    started = time.perf_counter()
    command = send_queued_mail(processes, lockfile, log)
    try:
        while True:
            exited = command.poll() is not None
            counts = Email.objects.aggregate(
                sent=Count("id", filter=Q(status=STATUS.sent)),
                done=Count("id", filter=Q(status__in=[STATUS.sent, STATUS.failed])),
            )
            if counts["done"] >= count or exited:
                break
            # Statuses change a batch (100) at a time: no need to ask often.
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        if command.poll() is None and counts["done"] < count:
            command.kill()
        command.wait(60)
    if counts["sent"] != count:
        raise RuntimeError(f"{counts['sent']} of {count} sent; see {log}")
    shutil.rmtree(work)  # the log is kept only when something went wrong
    return {
        "sent": counts["sent"],
        "elapsed": elapsed,
        "startup": startup,
        "message_size": message_size,
    }


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def report_peer(peer: Mapping[str, PeerRun], runs: Sequence[PostinoRun] = ()) -> None:
    """Print the peer's figure per link, each beside Postino's of the same run
    (two workers, signed and unsigned) when ``runs`` are given."""
    first = next(iter(peer.values()))
    print()
    print(
        f"  Peer reference: django-post-office {version('django-post-office')}, same sink,"
        f" send_queued_mail --processes {first.processes}, {first.threads} threads each"
    )
    print(
        "  (Django's SMTP backend, no DKIM; its command start-up taken off;"
        f" {first.message_size:,}-byte messages)"
    )
    for link, run in peer.items():
        print(
            f"  {link:25s} {run.rate:8.1f} msg/s  ({run.sent:,} in"
            f" {run.elapsed - run.startup:.1f} s, after {run.startup:.1f} s start-up)"
        )
        ours = {
            "unsigned" if "unsigned" in postino.label else "signed": postino.rate
            for postino in runs
            if postino.label.startswith(link) and postino.workers == 2
        }
        if "unsigned" not in ours:
            continue
        signed = f"{ours['signed']:.1f} signed, " if "signed" in ours else ""
        print(f"    Postino, 2 workers      {signed}{ours['unsigned']:.1f} unsigned msg/s")
        print(
            f"    Postino ahead: {verdict(ours['unsigned'] > run.rate)}"
            f" (unsigned, {ours['unsigned'] / run.rate:.2f}x post-office)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=2000, help="on loopback")
    parser.add_argument("--far-recipients", type=int, default=500, help="through the 20 ms link")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS, help="per process")
    parser.add_argument("--processes", type=int, default=DEFAULT_PROCESSES)
    parser.add_argument("--count", type=int, help=argparse.SUPPRESS)
    parser.add_argument(CHILD_FLAG, action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_in_this_process:
        figures = measure_in_this_process(
            count=args.count, processes=args.processes, newsletter=sys.stdin.read()
        )
        print(json.dumps(figures))
        return

    from bench.send_throughput import free_port, start_delay_line, start_sink

    html = (ROOT / "bench" / "newsletter.html").read_text()
    port = free_port()
    sink, sink_name = start_sink(port)
    far_port = free_port()
    delay_line = start_delay_line(far_port, port)
    try:
        peer = {
            LINKS[0]: measure_post_office(
                port=port, count=args.recipients, html=html,
                threads=args.threads, processes=args.processes,
            ),
            LINKS[1]: measure_post_office(
                port=far_port, count=args.far_recipients, html=html,
                threads=args.threads, processes=args.processes,
            ),
        }  # fmt: skip
    finally:
        delay_line.terminate()
        delay_line.wait(10)
        sink.terminate()
        sink.wait(10)
    print(f"  sink                      {sink_name}")
    report_peer(peer)


if __name__ == "__main__":
    main()
