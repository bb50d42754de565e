"""python manage.py bounce_server: receive bounces and unsubscribe mails over SMTP."""

from __future__ import annotations

import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from bounces.inbound import start_bounce_server, tls_context


class Command(BaseCommand):
    help = "Run the SMTP listener that receives bounces, feedback reports and unsubscribe mails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=settings.POSTINO["BOUNCE_SERVER_HOST"])
        parser.add_argument("--port", type=int, default=settings.POSTINO["BOUNCE_SERVER_PORT"])

    def handle(self, *args: Any, **options: Any) -> None:
        context = tls_context()
        controller = start_bounce_server(options["host"], options["port"], tls=context)
        self.stdout.write(
            f"Bounce server listening on {options['host']}:{options['port']}"
            f" ({'STARTTLS offered' if context else 'no TLS'}) for "
            f"*@{settings.POSTINO['BOUNCE_DOMAIN']}; Ctrl-C to stop."
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("Bounce server stopped.")
