"""``manage.py create_relay_credential NAME``: a relay login for an application."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from transactional.credentials import create_credential


class Command(BaseCommand):
    help = (
        "Create a login for the SMTP relay and print its username and password "
        "(shown this once; only a hash is kept)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The application, e.g. 'Shop'.")
        parser.add_argument(
            "--from-domain",
            action="append",
            default=[],
            dest="from_domains",
            metavar="DOMAIN",
            help="A domain the From address may use (and its subdomains); repeat for "
            "more. None: any.",
        )
        parser.add_argument("--per-minute", type=int, help="Messages per minute at most.")
        parser.add_argument("--per-day", type=int, help="Messages per UTC day at most.")
        parser.add_argument("--max-bytes", type=int, help="The largest message accepted.")

    def handle(self, *args: Any, **options: Any) -> None:
        for option in ("per_minute", "per_day", "max_bytes"):
            if options[option] is not None and options[option] < 1:
                raise CommandError(f"--{option.replace('_', '-')} must be at least 1")
        try:
            created = create_credential(
                name=options["name"],
                allowed_from_domains=options["from_domains"],
                messages_per_minute=options["per_minute"],
                messages_per_day=options["per_day"],
                max_message_bytes=options["max_bytes"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        credential = created.credential
        relay = settings.POSTINO
        host = relay["SMTP_RELAY_HOST"]
        if host in {"", "0.0.0.0", "::"}:
            # Listening everywhere: applications reach it by this Postino's name.
            host = settings.BASE_HOST
        domains = ", ".join(credential.allowed_from_domains) or "any"
        self.stdout.write(
            "\n".join(
                [
                    f"Relay credential {credential.name!r} created.",
                    f"  Server    {host}:{relay['SMTP_RELAY_PORT']} (STARTTLS, or implicit "
                    "TLS if the relay runs with --implicit-tls; behind Docker, the published "
                    "port)",
                    f"  Username  {credential.username}",
                    f"  Password  {created.password}",
                    f"  From      {domains}",
                    "The password is shown this once; if it is lost, revoke the "
                    "credential and create another.",
                ]
            )
        )
