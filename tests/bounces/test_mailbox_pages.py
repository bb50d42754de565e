"""The settings pages for bounce mailboxes: list, add/edit, test, poll now, delete."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bounces.mailbox_services import create_mailbox
from bounces.models import Mailbox
from postino.redis import redis_client
from tests.support.smtpd import free_port

PASSWORD = "imap-s3cret-password"


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    # The suite's BASE_URL is https; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def box(db: None) -> Mailbox:
    return create_mailbox(
        name="Bounces", host="imap.example.com", username="bounce", password=PASSWORD
    )


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "Bounces",
        "protocol": "imap",
        "host": "imap.example.com",
        "port": "993",
        "security": "tls",
        "username": "bounce",
        "password": "",
        "folder": "INBOX",
        "after_processing": "delete",
        "move_to": "Processed",
        "enabled": "on",
    }
    data.update(overrides)
    return data


def _never_shows_the_password(html: str, box: Mailbox | None = None) -> None:
    assert PASSWORD not in html
    if box is not None:
        assert box.password_encrypted not in html


# --- who may do what ------------------------------------------------------------------


def _urls(box: Mailbox) -> list[tuple[str, str]]:
    return [
        ("get", reverse("bounces:mailboxes")),
        ("get", reverse("bounces:mailbox_create")),
        ("post", reverse("bounces:mailbox_create")),
        ("get", reverse("bounces:mailbox_edit", args=[box.pk])),
        ("post", reverse("bounces:mailbox_edit", args=[box.pk])),
        ("post", reverse("bounces:mailbox_test", args=[box.pk])),
        ("post", reverse("bounces:mailbox_poll", args=[box.pk])),
        ("post", reverse("bounces:mailbox_delete", args=[box.pk])),
    ]


def test_anonymous_visitors_are_sent_to_log_in_from_every_page_and_action(
    client: Client, box: Mailbox
) -> None:
    for method, url in _urls(box):
        response = getattr(client, method)(url, _form(name="Changed") if method == "post" else {})
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login") + "?next="), url
    box.refresh_from_db()
    assert box.name == "Bounces"


def test_outsiders_get_403_on_every_page_and_action(
    outsider_client: Client, box: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        for method, url in _urls(box):
            response = getattr(outsider_client, method)(
                url, _form(name="Changed") if method == "post" else {}
            )
            assert response.status_code == 403, url
    assert callbacks == []
    assert list(Mailbox.objects.values_list("name", flat=True)) == ["Bounces"]


def test_actions_are_posts(teammate_client: Client, box: Mailbox) -> None:
    for name in ("mailbox_test", "mailbox_poll", "mailbox_delete"):
        assert teammate_client.get(reverse(f"bounces:{name}", args=[box.pk])).status_code == 405
    assert Mailbox.objects.filter(pk=box.pk).exists()


def test_actions_need_a_csrf_token(teammate: User, box: Mailbox) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)

    response = client.post(reverse("bounces:mailbox_delete", args=[box.pk]))

    assert response.status_code == 403
    assert Mailbox.objects.filter(pk=box.pk).exists()


def test_the_bounce_pages_link_to_the_mailboxes(teammate_client: Client, db: None) -> None:
    page = teammate_client.get(reverse("bounces:index")).content.decode()
    assert f'href="{reverse("bounces:mailboxes")}"' in page and ">Mailboxes</a>" in page


# --- the list -------------------------------------------------------------------------


def test_the_empty_list_explains_bounce_mailboxes(
    teammate_client: Client, db: None, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "BOUNCE_DOMAIN": "returns.example.org"}

    page = teammate_client.get(reverse("bounces:mailboxes")).content.decode()

    assert "No bounce mailboxes yet" in page
    assert "bounces+…@returns.example.org" in page
    assert f'href="{reverse("bounces:mailbox_create")}"' in page


def test_the_list_shows_each_mailbox_and_its_last_poll(
    teammate_client: Client, box: Mailbox
) -> None:
    pop = create_mailbox(
        name="Old POP box",
        protocol="pop3",
        host="pop.example.com",
        port=995,
        username="pop",
        password=PASSWORD,
        enabled=False,
    )
    Mailbox.objects.filter(pk=box.pk).update(
        last_polled_at=timezone.now() - timedelta(minutes=5),
        last_error="AUTH: the server refused the login",
        messages_processed=1234,
    )

    response = teammate_client.get(reverse("bounces:mailboxes"))

    page = response.content.decode()
    assert response.status_code == 200
    assert "imap://imap.example.com:993" in page and "pop3://pop.example.com:995" in page
    assert "5\xa0minutes ago" in page
    assert 'data-role="last-error">AUTH: the server refused the login<' in page
    assert "1,234" in page
    assert reverse("bounces:mailbox_edit", args=[pop.pk]) in page
    assert "Disabled" in page
    _never_shows_the_password(page, box)


def test_the_list_takes_a_bounded_number_of_queries(
    teammate_client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    for i in range(30):
        create_mailbox(name=f"Box {i}", host="imap.example.com", username="u", password="pw")

    with django_assert_max_num_queries(5):
        response = teammate_client.get(reverse("bounces:mailboxes"))

    assert len(response.context["mailboxes"]) == 30


# --- adding and editing ---------------------------------------------------------------


def test_adding_a_mailbox_stores_the_password_encrypted(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("bounces:mailbox_create"), _form(password=PASSWORD), follow=True
    )

    box = Mailbox.objects.get()
    assert response.redirect_chain[-1][0] == reverse("bounces:mailbox_edit", args=[box.pk])
    assert (box.name, box.protocol, box.host, box.port, box.enabled) == (
        "Bounces",
        "imap",
        "imap.example.com",
        993,
        True,
    )
    assert box.password == PASSWORD
    assert PASSWORD not in box.password_encrypted
    _never_shows_the_password(response.content.decode(), box)


def test_a_new_mailbox_needs_a_password(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(reverse("bounces:mailbox_create"), _form(password=""))

    assert response.status_code == 400
    assert response.context["form"].errors["password"] == ["Enter the mailbox password."]
    assert not Mailbox.objects.exists()


def test_the_edit_page_never_shows_the_password(teammate_client: Client, box: Mailbox) -> None:
    page = teammate_client.get(reverse("bounces:mailbox_edit", args=[box.pk])).content.decode()

    _never_shows_the_password(page, box)
    assert '<input type="password" name="password"' in page
    assert "Leave empty to keep the stored password." in page
    assert 'value="imap.example.com"' in page  # the other fields are filled in


def test_the_port_help_names_the_usual_ports(teammate_client: Client, db: None) -> None:
    page = teammate_client.get(reverse("bounces:mailbox_create")).content.decode()
    assert "993 for IMAPS, 143 for IMAP, 995 for POP3S, 110 for POP3" in page


def test_a_password_is_not_echoed_back_after_a_validation_error(
    teammate_client: Client, box: Mailbox
) -> None:
    for url in (reverse("bounces:mailbox_create"), reverse("bounces:mailbox_edit", args=[box.pk])):
        response = teammate_client.post(url, _form(name="Other", password=PASSWORD, port="70000"))

        assert response.status_code == 400
        assert response.context["form"].errors["port"] == ["Port must be between 1 and 65535."]
        _never_shows_the_password(response.content.decode(), box)


def test_an_empty_password_on_edit_keeps_the_stored_one(
    teammate_client: Client, box: Mailbox
) -> None:
    response = teammate_client.post(
        reverse("bounces:mailbox_edit", args=[box.pk]),
        _form(host="imap2.example.com", password="", enabled=""),
    )

    assert response.status_code == 302
    box.refresh_from_db()
    assert (box.host, box.enabled) == ("imap2.example.com", False)
    assert box.password == PASSWORD


def test_a_new_password_on_edit_replaces_the_stored_one(
    teammate_client: Client, box: Mailbox
) -> None:
    teammate_client.post(
        reverse("bounces:mailbox_edit", args=[box.pk]), _form(password="rotated-password")
    )
    box.refresh_from_db()
    assert box.password == "rotated-password"


def test_pop3_cannot_move_processed_messages(teammate_client: Client, box: Mailbox) -> None:
    response = teammate_client.post(
        reverse("bounces:mailbox_edit", args=[box.pk]),
        _form(protocol="pop3", port="995", after_processing="move"),
    )

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == ["after_processing"]
    assert "POP3 has no folders" in errors["after_processing"][0]
    page = response.content.decode()
    # Beside the field, not in a banner at the top.
    assert 'id="field-after_processing"' in page
    after_field = page.split('id="field-after_processing"', 1)[1].split('id="field-move_to"')[0]
    assert "POP3 has no folders" in after_field
    box.refresh_from_db()
    assert box.protocol == "imap"


def test_service_rules_land_beside_their_fields(teammate_client: Client, box: Mailbox) -> None:
    response = teammate_client.post(
        reverse("bounces:mailbox_create"),
        _form(
            name="Other", host="bad host", after_processing="move", move_to="INBOX", password="pw"
        ),
    )

    errors = response.context["form"].errors
    assert set(errors) == {"host", "move_to"}
    assert errors["host"] == ["Enter a host name or IP address."]
    assert errors["move_to"] == [
        "Processed messages must go to another folder than the one that is polled."
    ]
    assert Mailbox.objects.count() == 1


def test_a_duplicate_name_is_reported_beside_the_name(
    teammate_client: Client, box: Mailbox
) -> None:
    response = teammate_client.post(reverse("bounces:mailbox_create"), _form(password="pw"))

    assert response.context["form"].errors["name"] == ["A mailbox named 'Bounces' already exists."]
    assert Mailbox.objects.count() == 1


# --- test connection, poll now, delete ------------------------------------------------


def test_test_connection_reports_the_tcp_stage_for_a_closed_port(
    teammate_client: Client, db: None
) -> None:
    box = create_mailbox(
        name="Closed",
        host="127.0.0.1",
        port=free_port(),
        security="none",
        username="bounce",
        password=PASSWORD,
    )

    response = teammate_client.post(reverse("bounces:mailbox_test", args=[box.pk]))

    assert response.status_code == 200
    check = response.context["check"]
    assert (check.ok, check.stage) == (False, "tcp")
    page = response.content.decode()
    assert 'data-role="failed-stage">TCP connection<' in page
    assert "Resolved 127.0.0.1" in page  # the step that worked
    assert f"cannot connect to 127.0.0.1:{box.port}" in page
    _never_shows_the_password(page, box)


def test_poll_now_queues_the_poll_after_commit(
    teammate_client: Client,
    box: Mailbox,
    django_capture_on_commit_callbacks: Any,
    clean_redis: None,
) -> None:
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = teammate_client.post(reverse("bounces:mailbox_poll", args=[box.pk]))
    assert redis_client().llen(queue) == 0  # nothing is queued before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    (message,) = redis_client().lrange(queue, 0, -1)
    envelope = json.loads(message)
    assert envelope["headers"]["task"] == "bounces.tasks.poll_mailbox"
    assert json.loads(base64.b64decode(envelope["body"]))[0] == [box.pk]
    assert response.status_code == 302
    assert response["Location"] == reverse("bounces:mailboxes")
    page = teammate_client.get(response["Location"]).content.decode()
    assert "Polling “Bounces” now" in page


def test_poll_now_on_a_disabled_mailbox_queues_nothing_and_says_why(
    teammate_client: Client, box: Mailbox, django_capture_on_commit_callbacks: Any
) -> None:
    Mailbox.objects.filter(pk=box.pk).update(enabled=False)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = teammate_client.post(reverse("bounces:mailbox_poll", args=[box.pk]), follow=True)

    assert callbacks == []
    assert "is disabled: enable it to poll it" in response.content.decode()


def test_delete_removes_the_mailbox(teammate_client: Client, box: Mailbox) -> None:
    edit_page = teammate_client.get(reverse("bounces:mailbox_edit", args=[box.pk])).content
    assert b"data-confirm=" in edit_page  # the browser asks first

    response = teammate_client.post(reverse("bounces:mailbox_delete", args=[box.pk]), follow=True)

    assert response.redirect_chain[-1][0] == reverse("bounces:mailboxes")
    assert not Mailbox.objects.exists()
    assert "Mailbox “Bounces” removed" in response.content.decode()


def test_unknown_mailboxes_are_404(teammate_client: Client, db: None) -> None:
    assert teammate_client.get(reverse("bounces:mailbox_edit", args=[999])).status_code == 404
    assert teammate_client.post(reverse("bounces:mailbox_poll", args=[999])).status_code == 404
