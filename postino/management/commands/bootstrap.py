"""``manage.py bootstrap``: make a fresh installation usable; safe to run on every start.

1. An admin account, unless a superuser already exists.
2. The default SMTP server: "Default SMTP" from the ``SMTP_*`` settings, or
   "Local mail catcher" when no SMTP host is configured and the catcher is on.
3. Demo data on the very first start: a list, a few subscribers and a draft
   campaign, so a new user can send something within a minute.

``--json`` prints one JSON object instead of prose; ``postino.runner`` reads it
to show the login in its banner.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from delivery.services import create_smtp_server, update_smtp_server
from postino.env import env_str
from subscribers.models import MailingList, Subscriber
from subscribers.services import create_list, create_subscriber

DEFAULT_SERVER_NAME = "Default SMTP"
CATCHER_SERVER_NAME = "Local mail catcher"
DEMO_LIST_NAME = "Demo list"
DEMO_CAMPAIGN_NAME = "Welcome to Postino"
DEMO_FROM = "Postino Demo <demo@example.com>"

DEMO_SUBSCRIBERS: list[dict[str, Any]] = [
    {"email": "ada@example.com", "name": "Ada Lovelace", "attributes": {"city": "London"}},
    {
        "email": "grace@example.com",
        "name": "Grace Hopper",
        "attributes": {"city": "Arlington", "plan": "pro"},
    },
    {"email": "alan@example.com", "name": "Alan Turing", "attributes": {"city": "Manchester"}},
    {
        "email": "katherine@example.com",
        "name": "Katherine Johnson",
        "attributes": {"city": "Hampton", "plan": "pro"},
    },
    {"email": "linus@example.com", "name": "Linus Pauling", "attributes": {"city": "Portland"}},
]

DEMO_SUBJECT = "Welcome to Postino, {{ subscriber.name or 'friend' }}"

DEMO_HTML = """\
<div style="margin:0;padding:24px 0;background:#f4f1ec;">
  <table role="presentation" width="100%" cellpadding="0" cellspacing="0"
         style="max-width:560px;margin:0 auto;background:#ffffff;border-radius:8px;
                font-family:Helvetica,Arial,sans-serif;color:#2b2b2b;">
    <tr>
      <td style="padding:28px 32px;background:#c0392b;border-radius:8px 8px 0 0;">
        <h1 style="margin:0;font-size:24px;color:#ffffff;">Postino</h1>
        <p style="margin:4px 0 0;color:#f8d7d3;font-size:14px;">Your mail, delivered.</p>
      </td>
    </tr>
    <tr>
      <td style="padding:28px 32px;font-size:16px;line-height:1.6;">
        <p>Hello {{ subscriber.name or 'there' }},</p>
        <p>This is the sample campaign that Postino created on its first start.
           Every recipient gets a personal copy: this one was rendered for
           <strong>{{ subscriber.email }}</strong>
           {%- if subscriber.attributes.city %} in {{ subscriber.attributes.city }}{% endif %}.</p>
        <p>Edit this campaign, point it at your own list and SMTP server, and press
           <em>Start</em>. Postino sends in chunks, respects your server's rate limit
           and records the outcome of every single message.</p>
        <p style="text-align:center;margin:28px 0;">
          <a href="{{ webview_url }}"
             style="display:inline-block;padding:12px 24px;background:#c0392b;color:#ffffff;
                    text-decoration:none;border-radius:4px;font-weight:bold;">
            View this email in your browser</a>
        </p>
        <p>Happy sending,<br>The Postino demo</p>
      </td>
    </tr>
    <tr>
      <td style="padding:16px 32px;border-top:1px solid #eee;font-size:12px;color:#888;">
        You receive this because you are on the demo list.
        <a href="{{ preferences_url }}" style="color:#888;">Manage your preferences</a> ·
        <a href="{{ unsubscribe_url }}" style="color:#888;">Unsubscribe</a>
      </td>
    </tr>
  </table>
</div>
"""


@dataclass
class Outcome:
    admin_username: str
    admin_created: bool
    # Only when it was generated just now; it is never stored in plain text.
    admin_password: str | None
    smtp_server: str | None
    demo_created: bool


class Command(BaseCommand):
    help = "Create the admin account, the default SMTP server and first-start demo data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-demo", action="store_true", help="Do not create demo data.")
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the outcome as JSON."
        )

    def handle(self, *args: Any, no_demo: bool, as_json: bool, **options: Any) -> None:
        username, created, password = ensure_admin()
        server = ensure_default_smtp_server()
        demo = False if no_demo else create_demo_data(server)
        outcome = Outcome(
            admin_username=username,
            admin_created=created,
            admin_password=password,
            smtp_server=server.name if server else None,
            demo_created=demo,
        )
        if as_json:
            self.stdout.write(json.dumps(asdict(outcome)))
            return
        self._report(outcome)

    def _report(self, outcome: Outcome) -> None:
        if outcome.admin_created and outcome.admin_password:
            self.stdout.write(
                f"Created admin {outcome.admin_username!r} with password "
                f"{outcome.admin_password}  (printed once; change it in the admin)"
            )
        elif outcome.admin_created:
            self.stdout.write(f"Created admin {outcome.admin_username!r}")
        else:
            self.stdout.write(f"Admin account: {outcome.admin_username}")
        if outcome.smtp_server:
            self.stdout.write(f"Default SMTP server: {outcome.smtp_server}")
        else:
            self.stdout.write("No default SMTP server (set SMTP_HOST, or add one in the app)")
        if outcome.demo_created:
            self.stdout.write(f"Created demo data: {DEMO_LIST_NAME!r}, {DEMO_CAMPAIGN_NAME!r}")


def ensure_admin() -> tuple[str, bool, str | None]:
    """Returns (username, created, generated password or None)."""
    user_model = get_user_model()
    existing = user_model.objects.filter(is_superuser=True).order_by("pk").first()
    if existing is not None:
        return existing.get_username(), False, None
    # The variables Django's own createsuperuser reads; *_FILE works too.
    username = env_str("DJANGO_SUPERUSER_USERNAME").strip() or "admin"
    email = env_str("DJANGO_SUPERUSER_EMAIL").strip() or "admin@localhost"
    password = env_str("DJANGO_SUPERUSER_PASSWORD")
    generated = None
    if not password:
        generated = password = secrets.token_urlsafe(12)
    user = user_model.objects.filter(**{user_model.USERNAME_FIELD: username}).first()
    if user is not None:
        # An ordinary account with that name exists: promote it rather than fail.
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
    else:
        user_model.objects.create_superuser(username=username, email=email, password=password)
    return username, True, generated


def ensure_default_smtp_server() -> SmtpServer | None:
    """Create or update the server that new campaigns and the demo use."""
    smtp: dict[str, Any] = settings.DEFAULT_SMTP
    if smtp["HOST"]:
        values: dict[str, Any] = {
            "name": DEFAULT_SERVER_NAME,
            "host": smtp["HOST"],
            "port": smtp["PORT"],
            "security": smtp["SECURITY"],
            "username": smtp["USERNAME"],
            "max_connections": smtp["MAX_CONNECTIONS"],
            "messages_per_second": smtp["MESSAGES_PER_SECOND"],
        }
        # An empty SMTP_PASSWORD keeps whatever was stored (e.g. entered in the app).
        password: str | None = str(smtp["PASSWORD"]) or None
    elif settings.POSTINO["MAILCATCHER_ENABLED"]:
        values = {
            "name": CATCHER_SERVER_NAME,
            "host": settings.POSTINO["MAILCATCHER_HOST"],
            "port": settings.POSTINO["MAILCATCHER_PORT"],
            "security": SmtpServer.Security.NONE,
            "username": "",
            "max_connections": 4,
            "messages_per_second": 100.0,
        }
        password = ""
    else:
        return None
    server = SmtpServer.objects.filter(name=values["name"]).first()
    if server is None:
        return create_smtp_server(password=password or "", **values)
    return update_smtp_server(server=server, password=password, **values)


def create_demo_data(server: SmtpServer | None) -> bool:
    """Demo list, subscribers and a draft campaign, on an empty installation only."""
    if MailingList.objects.exists() or Subscriber.objects.exists() or Campaign.objects.exists():
        return False
    with transaction.atomic():
        demo_list = create_list(
            name=DEMO_LIST_NAME,
            optin=MailingList.OptIn.SINGLE,
            description="Sample subscribers created on first start. Safe to delete.",
        )
        for person in DEMO_SUBSCRIBERS:
            create_subscriber(
                email=person["email"],
                name=person["name"],
                attributes=person["attributes"],
                lists=[demo_list],
                preconfirm=True,
            )
        create_campaign(
            name=DEMO_CAMPAIGN_NAME,
            subject=DEMO_SUBJECT,
            from_email=DEMO_FROM,
            html=DEMO_HTML,
            lists=[demo_list],
            smtp_server=server,
        )
    return True
