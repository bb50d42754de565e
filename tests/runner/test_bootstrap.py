"""`manage.py bootstrap` makes a fresh installation usable and is safe to repeat."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from campaigns.models import Campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList, Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("USERNAME", "EMAIL", "PASSWORD"):
        monkeypatch.delenv(f"DJANGO_SUPERUSER_{name}", raising=False)


@pytest.fixture
def catcher_on(settings: Any) -> None:
    settings.POSTINO = {
        **settings.POSTINO,
        "MAILCATCHER_ENABLED": True,
        "MAILCATCHER_HOST": "127.0.0.1",
        "MAILCATCHER_PORT": 2525,
    }
    settings.DEFAULT_SMTP = {**settings.DEFAULT_SMTP, "HOST": ""}


def bootstrap(*args: str) -> dict[str, Any]:
    out = StringIO()
    call_command("bootstrap", "--json", *args, stdout=out)
    return json.loads(out.getvalue())


def test_first_run_creates_admin_with_a_generated_password_shown_once(catcher_on: None) -> None:
    first = bootstrap()
    second = bootstrap()

    admin = User.objects.get()
    assert admin.username == "admin" and admin.email == "admin@localhost"
    assert admin.is_superuser and admin.is_staff
    assert first["admin_created"] is True
    assert admin.check_password(first["admin_password"])
    assert first["admin_password"] not in admin.password  # stored hashed only
    assert second["admin_username"] == "admin"
    assert second["admin_created"] is False and second["admin_password"] is None


def test_running_it_twice_creates_one_of_everything(catcher_on: None) -> None:
    bootstrap()
    bootstrap()

    assert User.objects.filter(is_superuser=True).count() == 1
    assert MailingList.objects.count() == 1
    assert Campaign.objects.count() == 1
    assert SmtpServer.objects.count() == 1


def test_demo_data_is_a_ready_to_send_draft_through_the_mail_catcher(catcher_on: None) -> None:
    outcome = bootstrap()

    assert outcome["demo_created"] is True
    server = SmtpServer.objects.get()
    assert (server.name, server.host, server.port) == ("Local mail catcher", "127.0.0.1", 2525)
    assert server.security == SmtpServer.Security.NONE and server.username == ""
    assert server.messages_per_second >= 100
    demo = MailingList.objects.get()
    assert demo.name == "Demo list" and demo.optin == MailingList.OptIn.SINGLE
    confirmed = Subscription.objects.filter(
        mailing_list=demo, status=Subscription.Status.CONFIRMED
    ).select_related("subscriber")
    assert len(confirmed) == 5
    assert all(s.subscriber.email.endswith("@example.com") for s in confirmed)
    assert all(s.subscriber.name and s.subscriber.attributes for s in confirmed)
    campaign = Campaign.objects.get()
    assert campaign.name == "Welcome to Postino"
    assert campaign.status == Campaign.Status.DRAFT
    assert campaign.from_email == "Postino Demo <demo@example.com>"
    assert campaign.smtp_server == server
    assert list(campaign.lists.all()) == [demo]
    for variable in ("subscriber.name", "unsubscribe_url", "preferences_url", "webview_url"):
        assert "{{ " + variable in campaign.html


def test_no_demo_skips_the_sample_data(catcher_on: None) -> None:
    assert bootstrap("--no-demo")["demo_created"] is False
    assert not MailingList.objects.exists() and not Campaign.objects.exists()


def test_demo_data_is_not_recreated_once_the_user_has_lists(catcher_on: None) -> None:
    MailingList.objects.create(name="Customers")
    assert bootstrap()["demo_created"] is False
    assert not Campaign.objects.exists()


def test_admin_credentials_come_from_the_environment(
    catcher_on: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "boss")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "boss@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long passphrase from env")

    outcome = bootstrap()

    admin = User.objects.get()
    assert (admin.username, admin.email) == ("boss", "boss@example.com")
    assert admin.check_password("a long passphrase from env")
    assert outcome["admin_username"] == "boss" and outcome["admin_password"] is None


def test_an_existing_superuser_is_left_alone(catcher_on: None) -> None:
    User.objects.create_superuser("owner", "owner@example.com", "secret passphrase")
    outcome = bootstrap()
    assert outcome["admin_username"] == "owner" and outcome["admin_created"] is False
    assert User.objects.count() == 1


def test_smtp_settings_from_the_environment_become_the_default_server(settings: Any) -> None:
    settings.DEFAULT_SMTP = {
        "HOST": "smtp.example.net",
        "PORT": 465,
        "SECURITY": "tls",
        "USERNAME": "mailer",
        "PASSWORD": "smtp secret",
        "MAX_CONNECTIONS": 3,
        "MESSAGES_PER_SECOND": 12.5,
    }
    settings.POSTINO = {**settings.POSTINO, "MAILCATCHER_ENABLED": True}

    bootstrap()
    settings.DEFAULT_SMTP = {**settings.DEFAULT_SMTP, "PORT": 587, "SECURITY": "starttls"}
    bootstrap()

    server = SmtpServer.objects.get()  # the catcher is not used when SMTP_HOST is set
    assert server.name == "Default SMTP"
    assert (server.host, server.port, server.security) == ("smtp.example.net", 587, "starttls")
    assert (server.username, server.password) == ("mailer", "smtp secret")
    assert "smtp secret" not in server.password_encrypted
    assert (server.max_connections, server.messages_per_second) == (3, 12.5)
    assert Campaign.objects.get().smtp_server == server


def test_without_smtp_host_or_catcher_there_is_no_default_server(settings: Any) -> None:
    settings.DEFAULT_SMTP = {**settings.DEFAULT_SMTP, "HOST": ""}
    settings.POSTINO = {**settings.POSTINO, "MAILCATCHER_ENABLED": False}

    outcome = bootstrap()

    assert outcome["smtp_server"] is None
    assert not SmtpServer.objects.exists()
    assert Campaign.objects.get().smtp_server is None


def test_plain_output_prints_the_generated_password_once(catcher_on: None) -> None:
    out = StringIO()
    call_command("bootstrap", stdout=out)
    assert "printed once; change it in the admin" in out.getvalue()
    out = StringIO()
    call_command("bootstrap", stdout=out)
    assert "printed once" not in out.getvalue()
