"""``manage.py create_api_token <username> [--name NAME]``: print a new API token."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from api.services import create_token


class Command(BaseCommand):
    help = "Create an API token for a staff account and print it (only the token, on stdout)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to recognise the token by.")

    def handle(self, *args: Any, username: str, name: str, **options: Any) -> None:
        user_model = get_user_model()
        try:
            user = user_model._default_manager.get_by_natural_key(username)
        except user_model.DoesNotExist as exc:
            raise CommandError(f"No user named {username!r}.") from exc
        if not (user.is_active and getattr(user, "is_staff", False)):
            # A token for such an account would only ever get 401/403.
            raise CommandError(
                f"{username!r} is not an active staff account; the API only serves staff."
            )
        # Only the token on stdout, so `TOKEN=$(manage.py create_api_token admin)` works.
        self.stdout.write(create_token(user=user, name=name))
