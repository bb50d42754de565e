"""``manage.py smtp_relay``: accept transactional mail from applications over SMTP."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from transactional.relay import (
    DEFAULT_DB_THREADS,
    ensure_dev_certificate,
    quiet_aiosmtpd_logs,
    start_relay,
    tls_context,
)


class Command(BaseCommand):
    help = (
        "Run the SMTP relay (submission with STARTTLS, or implicit TLS) that takes "
        "transactional mail from applications logging in with a relay credential."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        relay = settings.POSTINO
        parser.add_argument("--host", default=relay["SMTP_RELAY_HOST"])
        parser.add_argument("--port", type=int, default=relay["SMTP_RELAY_PORT"])
        parser.add_argument(
            "--implicit-tls",
            action="store_true",
            help="The whole connection in TLS (port 465 style) instead of STARTTLS.",
        )
        parser.add_argument("--tls-cert", default=relay["SMTP_RELAY_TLS_CERT"])
        parser.add_argument("--tls-key", default=relay["SMTP_RELAY_TLS_KEY"])
        parser.add_argument(
            "--dev-certificate",
            action="store_true",
            help="Development: write a self-signed certificate for localhost to "
            "--tls-cert/--tls-key when they do not exist.",
        )
        parser.add_argument(
            "--db-threads",
            type=int,
            default=DEFAULT_DB_THREADS,
            help="Threads doing database work; also the most connections the relay holds.",
        )
        parser.add_argument(
            "--processes",
            type=int,
            default=settings.POSTINO["SMTP_RELAY_PROCESSES"],
            help="Relay processes sharing the port (SO_REUSEPORT); each uses about one core.",
        )
        # Set on the processes this command starts beside itself.
        parser.add_argument("--reuse-port", action="store_true", help="(internal)")

    def handle(self, *args: Any, **options: Any) -> None:
        host: str = options["host"]
        port: int = options["port"]
        cert: str = options["tls_cert"] or ""
        key: str = options["tls_key"] or ""
        if options["db_threads"] < 1:
            raise CommandError("--db-threads must be at least 1")
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1")
        if not cert:
            # Without TLS no application could log in (AUTH is only offered
            # encrypted), so the relay would refuse every message.
            raise CommandError(
                "The relay needs a TLS certificate: set SMTP_RELAY_TLS_CERT (and "
                "SMTP_RELAY_TLS_KEY, unless the certificate file holds the key) or pass "
                "--tls-cert/--tls-key. Applications may log in only over TLS."
            )
        if options["dev_certificate"]:
            if not key:
                raise CommandError("--dev-certificate needs --tls-key too")
            if ensure_dev_certificate(Path(cert), Path(key)):
                self.stdout.write(f"Wrote a self-signed development certificate to {cert}")
        try:
            context = tls_context(cert, key or None)
        except (OSError, ssl.SSLError) as exc:
            raise CommandError(f"cannot load the relay's certificate {cert}: {exc}") from exc

        quiet_aiosmtpd_logs()
        signals = {signal.SIGINT, signal.SIGTERM}
        # Blocked before the relay's threads start, which inherit the mask:
        # either signal then waits for sigwait below, in this thread.
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        shared = options["processes"] > 1 or options["reuse_port"]
        try:
            relay = start_relay(
                host,
                port,
                tls=context,
                implicit_tls=options["implicit_tls"],
                db_threads=options["db_threads"],
                reuse_port=shared,
            )
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc}") from exc
        siblings = [self._sibling(options) for _ in range(options["processes"] - 1)]
        mode = "implicit TLS" if options["implicit_tls"] else "STARTTLS"
        count = f", {options['processes']} processes" if siblings else ""
        self.stdout.write(f"SMTP relay listening on {host}:{port} ({mode}, AUTH required{count})")
        self.stdout.flush()
        try:
            signal.sigwait(signals)
        finally:
            for sibling in siblings:
                sibling.terminate()
            relay.stop()
            for sibling in siblings:
                try:
                    sibling.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    sibling.kill()
        self.stdout.write("SMTP relay stopped")

    @staticmethod
    def _sibling(options: dict[str, Any]) -> subprocess.Popen[bytes]:
        """Another relay process on the same port, with the same options."""
        argv = [
            sys.executable, sys.argv[0], "smtp_relay",
            "--host", options["host"], "--port", str(options["port"]),
            "--tls-cert", options["tls_cert"] or "", "--tls-key", options["tls_key"] or "",
            "--db-threads", str(options["db_threads"]), "--processes", "1", "--reuse-port",
        ]  # fmt: skip
        if options["implicit_tls"]:
            argv.append("--implicit-tls")
        # Its output would repeat this one's; its errors still show.
        return subprocess.Popen(argv, stdout=subprocess.DEVNULL)
