"""``manage.py mailcatcher``: run the development SMTP catcher until stopped."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from delivery.mailcatcher import DEFAULT_KEEP, start_mailcatcher


class Command(BaseCommand):
    help = "Run the built-in SMTP mail catcher; caught messages appear in the Outbox."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.POSTINO["MAILCATCHER_HOST"])
        parser.add_argument("--port", type=int, default=settings.POSTINO["MAILCATCHER_PORT"])
        parser.add_argument(
            "--keep", type=int, default=DEFAULT_KEEP, help="How many messages to keep."
        )

    def handle(self, *args: Any, host: str, port: int, keep: int, **options: Any) -> None:
        if keep < 1:
            raise CommandError("--keep must be at least 1")
        # aiosmtpd logs every connection at INFO; one line per caught message is noise.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        stop = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        try:
            controller = start_mailcatcher(host, port, keep=keep)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        self.stdout.write(f"Mail catcher listening on smtp://{host}:{port} (keeps {keep})")
        self.stdout.flush()
        try:
            # A timeout keeps the main thread responsive to signals.
            while not stop.wait(1.0):
                pass
        finally:
            controller.stop()
        self.stdout.write("Mail catcher stopped")
