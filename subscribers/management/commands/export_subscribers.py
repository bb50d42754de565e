"""``manage.py export_subscribers (--list NAME | --segment NAME) [-o FILE]``: the
subscribers of a list or segment as CSV, streamed, with progress on stderr."""

from __future__ import annotations

import contextlib
import sys
import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscribers.models import MailingList, Segment, Subscription
from subscribers.segments import selectors as segment_selectors
from subscribers.selectors import export_list


class Command(BaseCommand):
    help = (
        "Write the subscribers of a list or segment as CSV to a file (or stdout), "
        "one query streamed, with a progress bar on stderr."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--list", help="List name or id.")
        target.add_argument("--segment", help="Segment name or id.")
        parser.add_argument("-o", "--output", help="File to write; default: standard output.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            mailing_list = _find(MailingList, options["list"], "list")
            total = Subscription.objects.filter(mailing_list=mailing_list).count()
            chunks_of = lambda on_rows: export_list(mailing_list, on_rows=on_rows)  # noqa: E731
        else:
            segment = _find(Segment, options["segment"], "segment")
            total = segment_selectors.count_segment(segment)
            chunks_of = lambda on_rows: segment_selectors.export_segment(  # noqa: E731
                segment, on_rows=on_rows
            )
        show = not options["no_progress"]
        tty = show and sys.stderr.isatty()
        done = 0
        started = time.monotonic()
        last = 0.0

        def on_rows(count: int) -> None:
            nonlocal done, last
            done += count
            now = time.monotonic()
            if show and ((tty and now - last >= 0.2) or (not tty and now - last >= 5)):
                last = now
                self._progress(done, total, now - started, tty)

        with contextlib.ExitStack() as stack:
            out: TextIO = sys.stdout
            if options["output"]:
                out = stack.enter_context(
                    open(options["output"], "w", encoding="utf-8", newline="")
                )
            for chunk in chunks_of(on_rows):
                out.write(chunk)
        if show:
            self._progress(done, total, time.monotonic() - started, tty)
            if tty:
                self.stderr.write("")
        self.stderr.write(f"Exported {done:,} rows.")

    def _progress(self, done: int, total: int, seconds: float, tty: bool) -> None:
        percent = 100.0 * done / total if total else 100.0
        rate = done / seconds if seconds > 0 else 0
        shown = min(percent, 100.0)
        bar = "#" * int(shown / 5)
        line = f"[{bar:<20}] {shown:5.1f}% {done:>10,} of {total:,} rows {rate:,.0f} rows/s"
        self.stderr.write(("\r" + line.ljust(90)) if tty else line, ending="" if tty else "\n")


def _find(model: Any, value: str, what: str) -> Any:
    found = model.objects.filter(pk=int(value)).first() if value.isdigit() else None
    found = found or model.objects.filter(name__iexact=value).first()
    if found is None:
        raise CommandError(f"No {what} named or numbered {value!r}.")
    return found
