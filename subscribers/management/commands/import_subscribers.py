"""``manage.py import_subscribers FILE --list NAME``: import a CSV file, with a progress bar."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from subscribers.imports import run
from subscribers.imports.selectors import progress
from subscribers.imports.services import cancel_import, create_import
from subscribers.models import Import, MailingList, Subscription

POLL_SECONDS = 0.5


class Command(BaseCommand):
    help = (
        "Import subscribers from a CSV file (gzip or ZIP too). By default a worker does the "
        "import and this command shows its progress; --inline does it in this process."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--list", action="append", default=[], dest="lists", help="List name or id (repeat)."
        )
        parser.add_argument("--mode", choices=Import.Mode.values, default=Import.Mode.SUBSCRIBE)
        parser.add_argument(
            "--status",
            choices=Subscription.Status.values,
            default=Subscription.Status.CONFIRMED,
            help="Subscription status given to new subscriptions (subscribe mode).",
        )
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace existing names and attributes (default: only fill in missing ones).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Only count; change nothing.")
        parser.add_argument("--inline", action="store_true", help="Import in this process.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        lists = [self._list(value) for value in options["lists"]]
        try:
            with path.open("rb") as source:
                import_run = create_import(
                    source=source,
                    name=path.name,
                    lists=lists,
                    mode=options["mode"],
                    overwrite=options["overwrite"],
                    subscription_status=options["status"],
                    via="command",
                    dry_run=options["dry_run"],
                )
        except ValidationError as exc:
            raise CommandError(_messages(exc)) from exc
        worker = None
        if options["inline"]:
            worker = threading.Thread(target=_run_inline, args=(import_run.pk,), daemon=True)
            worker.start()
        try:
            self._follow(import_run, show=not options["no_progress"])
        except KeyboardInterrupt:
            cancel_import(import_run=import_run)
            self.stderr.write("\nCancelling: the batch in progress finishes first.")
            self._follow(import_run, show=False)
        if worker is not None:
            worker.join()
        import_run.refresh_from_db()
        self._summary(import_run)

    def _list(self, value: str) -> MailingList:
        found = MailingList.objects.filter(pk=int(value)) if value.isdigit() else None
        found = (
            found
            if found is not None and found.exists()
            else MailingList.objects.filter(name__iexact=value)
        )
        mailing_list = found.first()
        if mailing_list is None:
            raise CommandError(f"No list named or numbered {value!r}.")
        return mailing_list

    def _follow(self, import_run: Import, *, show: bool) -> None:
        tty = show and sys.stderr.isatty()
        last_line = 0.0
        while True:
            import_run.refresh_from_db()
            state = progress(import_run)
            now = time.monotonic()
            if show and (tty or now - last_line >= 5 or import_run.ended):
                rate = f"{state.rows_per_second:,.0f} rows/s" if state.rows_per_second else ""
                eta = f"ETA {state.eta_seconds:,.0f} s" if state.eta_seconds is not None else ""
                bar = "#" * int(state.percent / 5)
                line = (
                    f"[{bar:<20}] {state.percent:5.1f}% {state.phase:<18} "
                    f"{import_run.rows:>10,} rows {rate} {eta}"
                )
                self.stderr.write(
                    ("\r" + line.ljust(100)) if tty else line, ending="" if tty else "\n"
                )
                last_line = now
            if import_run.ended:
                if tty:
                    self.stderr.write("")
                return
            time.sleep(POLL_SECONDS)

    def _summary(self, import_run: Import) -> None:
        verb = "would import" if import_run.dry_run else "imported"
        self.stdout.write(
            f"{import_run.get_status_display()}: {import_run.rows:,} rows, {verb} "
            f"{import_run.imported:,} new, {import_run.updated:,} existing, "
            f"{import_run.skipped:,} skipped."
        )
        if import_run.error:
            self.stderr.write(import_run.error)
        if import_run.skipped and not import_run.dry_run:
            self.stdout.write(f"Skipped rows: manage.py import_report {import_run.pk}")
        if import_run.status == Import.Status.FAILED:
            raise CommandError("The import failed.")


def _run_inline(import_id: int) -> None:
    from django.db import connection

    try:
        run.run_import(import_id)
    finally:
        connection.close()


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
