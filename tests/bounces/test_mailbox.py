"""The bounce-mailbox poller against a real Dovecot (IMAP and POP3, with TLS).

Dovecot runs privately on loopback ports for this module (see
``tests/support/dovecot.py``); its certificate comes from a throw-away CA that
``SSL_CERT_FILE`` points at, so the poller verifies it like any other.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from bounces import mailbox as poller
from bounces import tasks
from bounces.mailbox import MailboxSettings, Stage, check_mailbox, open_session, poll_mailbox
from bounces.mailbox_services import create_mailbox, update_mailbox
from bounces.models import BounceEvent, Mailbox
from postino.redis import redis_client
from tests.support.certs import CertificateFiles, make_certificates
from tests.support.dovecot import RunningDovecot, dovecot_server
from tests.support.ports import free_port
from tests.support.redis import assert_redis_is_disposable


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CertificateFiles]:
    certs = make_certificates(tmp_path_factory.mktemp("mailbox-certs"))
    # The poller trusts the system store, which OpenSSL finds through SSL_CERT_FILE.
    previous = os.environ.get("SSL_CERT_FILE")
    os.environ["SSL_CERT_FILE"] = str(certs.ca_file)
    yield certs
    if previous is None:
        os.environ.pop("SSL_CERT_FILE", None)
    else:
        os.environ["SSL_CERT_FILE"] = previous


@pytest.fixture
def dovecot(certificates: CertificateFiles) -> Iterator[RunningDovecot]:
    """A fresh Dovecot per test (it starts in a few milliseconds): an empty
    mailbox, and no penalty left over from another test's wrong passwords
    (Dovecot delays logins from an address whose logins failed, for minutes)."""
    with dovecot_server(certificates) as server:
        yield server


PORTS = {
    ("imap", "tls"): "imaps_port",
    ("imap", "starttls"): "imap_port",
    ("imap", "none"): "imap_port",
    ("pop3", "tls"): "pop3s_port",
    ("pop3", "starttls"): "pop3_port",
    ("pop3", "none"): "pop3_port",
}


def make_mailbox(
    server: RunningDovecot,
    *,
    protocol: str = "imap",
    security: str = "tls",
    password: str | None = None,
    **fields: object,
) -> Mailbox:
    values: dict[str, object] = {
        "name": f"{protocol}-{security}",
        "host": server.host,
        "port": getattr(server, PORTS[(protocol, security)]),
        "username": server.username,
        "password": server.password if password is None else password,
        "protocol": protocol,
        "security": security,
    }
    values.update(fields)
    return create_mailbox(**values)  # type: ignore[arg-type]


def returned_mail(number: int, *, body: str = "") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.net\r\n"
        "To: bounces+abc@postino.test\r\n"
        f"Subject: Undelivered Mail Returned to Sender #{number}\r\n"
        f"Message-ID: <bounce-{number}@mx.example.net>\r\n"
        "\r\n"
        f"{body or f'Message number {number} could not be delivered.'}\r\n"
    ).encode()


class Recorder:
    """A handler that keeps what it was given, and fails on demand."""

    def __init__(self, fail_on: bytes | None = None) -> None:
        self.fail_on = fail_on
        self.raw: list[bytes] = []

    def __call__(self, raw: bytes) -> None:
        if self.fail_on is not None and self.fail_on in raw:
            raise ValueError("cannot parse this one")
        self.raw.append(raw)

    def subjects(self) -> list[str]:
        return sorted(
            line.decode()
            for raw in self.raw
            for line in raw.splitlines()
            if line.startswith(b"Subject:")
        )


# --- fetching, handing over, deleting -------------------------------------------------


@pytest.mark.parametrize(
    ("protocol", "security"),
    [("imap", "tls"), ("imap", "starttls"), ("pop3", "tls"), ("pop3", "starttls")],
    ids=["IMAPS", "IMAP+STARTTLS", "POP3S", "POP3+STLS"],
)
def test_each_message_is_handed_over_then_deleted(
    db: None, dovecot: RunningDovecot, protocol: str, security: str
) -> None:
    for number in (1, 2, 3):
        dovecot.deliver(returned_mail(number))
    box = make_mailbox(dovecot, protocol=protocol, security=security)
    handler = Recorder()

    result = poll_mailbox(box.pk, handler=handler)

    assert (result.fetched, result.processed, result.failed, result.error) == (3, 3, 0, "")
    assert handler.subjects() == [
        f"Subject: Undelivered Mail Returned to Sender #{n}" for n in (1, 2, 3)
    ]
    assert dovecot.stored() == []
    box.refresh_from_db()
    assert box.messages_processed == 3
    assert box.last_polled_at is not None
    assert box.last_error == ""


def test_plain_text_imap_works_where_the_admin_chose_it(db: None, dovecot: RunningDovecot) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot, protocol="imap", security="none", port=dovecot.imap_port)

    result = poll_mailbox(box.pk, handler=Recorder())

    assert (result.processed, result.error) == (1, "")


def test_the_counter_adds_up_across_polls_and_an_empty_mailbox_is_no_error(
    db: None, dovecot: RunningDovecot
) -> None:
    box = make_mailbox(dovecot)
    dovecot.deliver(returned_mail(1))
    poll_mailbox(box.pk, handler=Recorder())
    dovecot.deliver(returned_mail(2))
    dovecot.deliver(returned_mail(3))
    poll_mailbox(box.pk, handler=Recorder())

    empty = poll_mailbox(box.pk, handler=Recorder())

    assert (empty.fetched, empty.error) == (0, "")
    box.refresh_from_db()
    assert box.messages_processed == 3


def test_more_messages_than_the_limit_are_left_for_the_next_poll(
    db: None, dovecot: RunningDovecot
) -> None:
    for number in range(1, 6):
        dovecot.deliver(returned_mail(number))
    box = make_mailbox(dovecot)

    first = poll_mailbox(box.pk, handler=Recorder(), limit=3)

    assert first.processed == 3
    assert len(dovecot.stored()) == 2
    assert poll_mailbox(box.pk, handler=Recorder()).processed == 2


def test_a_pop3_message_with_very_long_lines_arrives_whole(
    db: None, dovecot: RunningDovecot
) -> None:
    long_line = "x" * 10_000  # poplib alone refuses lines over 2048 octets
    dovecot.deliver(returned_mail(1, body=long_line))
    box = make_mailbox(dovecot, protocol="pop3", security="tls")
    handler = Recorder()

    result = poll_mailbox(box.pk, handler=handler)

    assert (result.processed, result.error) == (1, "")
    assert long_line.encode() in handler.raw[0]


# --- moving ---------------------------------------------------------------------------


def test_imap_moves_processed_messages_to_a_folder_it_creates(
    db: None, dovecot: RunningDovecot
) -> None:
    dovecot.deliver(returned_mail(1))
    dovecot.deliver(returned_mail(2))
    box = make_mailbox(dovecot, after_processing="move", move_to="Bounces/Done")

    result = poll_mailbox(box.pk, handler=Recorder())

    assert (result.processed, result.error) == (2, "")
    assert dovecot.stored() == []
    assert len(dovecot.stored("Bounces.Done")) == 2
    # The next poll finds the folder there and keeps moving into it.
    dovecot.deliver(returned_mail(3))
    assert poll_mailbox(box.pk, handler=Recorder()).processed == 1
    assert len(dovecot.stored("Bounces.Done")) == 3


def test_without_the_move_extension_messages_are_copied_then_deleted(
    db: None, dovecot: RunningDovecot
) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot, after_processing="move", move_to="Processed")
    session = open_session(MailboxSettings.from_mailbox(box))
    # As against a server that predates RFC 6851.
    session.capabilities.discard("MOVE")  # type: ignore[attr-defined]
    ids = session.message_ids(10)

    session.dispose(ids)
    session.close()

    assert dovecot.stored() == []
    assert len(dovecot.stored("Processed")) == 1


def test_a_folder_to_poll_can_be_other_than_the_inbox(db: None, dovecot: RunningDovecot) -> None:
    dovecot.deliver(returned_mail(1), folder="Bounces")
    dovecot.deliver(returned_mail(2))
    box = make_mailbox(dovecot, folder="Bounces")
    handler = Recorder()

    poll_mailbox(box.pk, handler=handler)

    assert handler.subjects() == ["Subject: Undelivered Mail Returned to Sender #1"]
    assert len(dovecot.stored()) == 1


# --- nothing is lost ---------------------------------------------------------------------


@pytest.mark.parametrize(("protocol", "security"), [("imap", "tls"), ("pop3", "starttls")])
def test_a_message_the_handler_fails_on_stays_and_the_others_are_processed(
    db: None, dovecot: RunningDovecot, protocol: str, security: str
) -> None:
    for number in (1, 2, 3):
        dovecot.deliver(returned_mail(number))
    box = make_mailbox(dovecot, protocol=protocol, security=security)
    handler = Recorder(fail_on=b"#2")

    result = poll_mailbox(box.pk, handler=handler)

    assert (result.fetched, result.processed, result.failed) == (3, 2, 1)
    assert [b"#2" in raw for raw in dovecot.stored()] == [True]
    box.refresh_from_db()
    assert box.messages_processed == 2
    assert "1 message(s) could not be processed" in box.last_error
    # Once the handler copes, the message is processed like the others.
    assert poll_mailbox(box.pk, handler=Recorder()).processed == 1
    assert dovecot.stored() == []


def test_what_a_failing_handler_wrote_is_rolled_back(db: None, dovecot: RunningDovecot) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot)

    def half_done(raw: bytes) -> None:
        BounceEvent.objects.create(kind="hard", source="mailbox", email="a@example.com")
        raise RuntimeError("crashed after the first write")

    result = poll_mailbox(box.pk, handler=half_done)

    assert result.failed == 1
    assert not BounceEvent.objects.exists()


# --- what goes wrong, by stage ----------------------------------------------------------


@pytest.mark.parametrize(("protocol", "security"), [("imap", "tls"), ("pop3", "tls")])
def test_a_wrong_password_is_an_auth_error_recorded_on_the_mailbox(
    db: None, dovecot: RunningDovecot, protocol: str, security: str
) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot, protocol=protocol, security=security, password="wrong")

    result = poll_mailbox(box.pk, handler=Recorder())

    assert result.stage == Stage.AUTH
    box.refresh_from_db()
    assert box.last_error.startswith("AUTH: login refused")
    assert box.last_polled_at is not None
    assert len(dovecot.stored()) == 1


@pytest.mark.parametrize(
    ("protocol", "security"), [("imap", "tls"), ("imap", "starttls"), ("pop3", "starttls")]
)
def test_a_certificate_from_an_untrusted_ca_is_a_tls_error(
    db: None,
    dovecot: RunningDovecot,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    protocol: str,
    security: str,
) -> None:
    box = make_mailbox(dovecot, protocol=protocol, security=security)
    other_ca = make_certificates(tmp_path / "other").ca_file
    monkeypatch.setenv("SSL_CERT_FILE", str(other_ca))

    result = poll_mailbox(box.pk, handler=Recorder())

    assert result.stage == Stage.TLS
    box.refresh_from_db()
    assert box.last_error.startswith("TLS: certificate rejected")


def test_a_closed_port_is_a_tcp_error(db: None, dovecot: RunningDovecot) -> None:
    box = make_mailbox(dovecot, port=free_port())

    result = poll_mailbox(box.pk, handler=Recorder())

    assert result.stage == Stage.TCP
    box.refresh_from_db()
    assert box.last_error.startswith("TCP: cannot connect to localhost:")


def test_a_missing_folder_is_a_mailbox_error(db: None, dovecot: RunningDovecot) -> None:
    box = make_mailbox(dovecot, folder="Nowhere")

    result = poll_mailbox(box.pk, handler=Recorder())

    assert result.stage == Stage.MAILBOX
    assert "cannot open folder 'Nowhere'" in result.error


def test_a_later_successful_poll_clears_the_error(db: None, dovecot: RunningDovecot) -> None:
    box = make_mailbox(dovecot)
    Mailbox.objects.filter(pk=box.pk).update(last_error="TCP: cannot connect: timed out")

    poll_mailbox(box.pk, handler=Recorder())

    box.refresh_from_db()
    assert box.last_error == ""


# --- "Test connection" ---------------------------------------------------------------------


def test_check_mailbox_walks_through_each_step(db: None, dovecot: RunningDovecot) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot, protocol="imap", security="starttls")

    check = check_mailbox(box)

    assert check.ok, check.message
    assert check.steps[0] == "Resolved localhost"
    assert "STARTTLS negotiated, certificate verified" in check.steps
    assert f"Logged in as {dovecot.username}" in check.steps
    assert check.steps[-1] == "1 message(s) waiting"
    assert len(dovecot.stored()) == 1  # looked, touched nothing


def test_check_mailbox_says_which_step_failed(db: None, dovecot: RunningDovecot) -> None:
    box = make_mailbox(dovecot, protocol="pop3", security="tls", password="wrong")

    check = check_mailbox(box)

    assert (check.ok, check.stage) == (False, "auth")
    assert check.steps[-1] == "TLS established (implicit TLS), certificate verified"


# --- one poller per mailbox -------------------------------------------------------------


@pytest.fixture
def lock_keys() -> Iterator[None]:
    assert_redis_is_disposable()
    yield
    for key in redis_client().scan_iter("postino:mailbox-poll:*"):
        redis_client().delete(key)


def test_a_mailbox_locked_by_another_worker_is_skipped(
    db: None, dovecot: RunningDovecot, lock_keys: None
) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot)

    with poller.mailbox_lock(box.pk) as acquired:
        assert acquired
        skipped = poller.poll_mailbox_exclusively(box.pk, handler=Recorder())
    after = poller.poll_mailbox_exclusively(box.pk, handler=Recorder())

    assert skipped.skipped and skipped.fetched == 0
    assert (after.skipped, after.processed) == (False, 1)


def test_two_concurrent_polls_of_one_mailbox_never_both_run(
    transactional_db: None, dovecot: RunningDovecot, lock_keys: None
) -> None:
    dovecot.deliver(returned_mail(1))
    dovecot.deliver(returned_mail(2))
    box = make_mailbox(dovecot)
    inside, release = threading.Event(), threading.Event()
    seen: list[bytes] = []

    def slow(raw: bytes) -> None:
        seen.append(raw)
        inside.set()
        assert release.wait(10)

    results: list[poller.PollResult] = []
    first = threading.Thread(
        target=lambda: results.append(poller.poll_mailbox_exclusively(box.pk, handler=slow))
    )
    first.start()
    try:
        assert inside.wait(10)
        second = poller.poll_mailbox_exclusively(box.pk, handler=Recorder())
    finally:
        release.set()
        first.join(10)

    assert second.skipped
    assert results[0].processed == 2
    assert len(seen) == 2


def test_the_periodic_task_queues_one_poll_per_enabled_mailbox(
    db: None, dovecot: RunningDovecot, django_capture_on_commit_callbacks: Any
) -> None:
    assert_redis_is_disposable()
    redis_client().flushdb()
    on = make_mailbox(dovecot, name="on")
    make_mailbox(dovecot, name="off", enabled=False)

    # A worker runs the task outside a transaction; here the test's own one
    # holds the polls until it "commits".
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.poll_mailboxes() == 1

    queued = [json.loads(item) for item in redis_client().lrange("postino", 0, -1)]
    assert [(m["headers"]["task"], m["headers"]["argsrepr"]) for m in queued] == [
        ("bounces.tasks.poll_mailbox", f"({on.pk},)")
    ]
    redis_client().flushdb()


def test_the_poll_task_leaves_a_disabled_mailbox_alone(
    db: None, dovecot: RunningDovecot, lock_keys: None
) -> None:
    dovecot.deliver(returned_mail(1))
    box = make_mailbox(dovecot, enabled=False)

    assert tasks.poll_mailbox(box.pk) == {"skipped": True}
    assert len(dovecot.stored()) == 1


# --- through the real parser ----------------------------------------------------------------


DSN = b"""\
From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r
To: bounces@postino.test\r
Subject: Undelivered Mail Returned to Sender\r
Message-ID: <dsn-1@mx.example.net>\r
MIME-Version: 1.0\r
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"\r
\r
--BOUNDARY\r
Content-Type: text/plain\r
\r
I'm sorry, your message could not be delivered to gone@example.org.\r
\r
--BOUNDARY\r
Content-Type: message/delivery-status\r
\r
Reporting-MTA: dns; mx.example.net\r
\r
Final-Recipient: rfc822; gone@example.org\r
Action: failed\r
Status: 5.1.1\r
Diagnostic-Code: smtp; 550 5.1.1 <gone@example.org>: User unknown\r
\r
--BOUNDARY--\r
"""


def test_a_polled_dsn_becomes_a_bounce_event(db: None, dovecot: RunningDovecot) -> None:
    pytest.importorskip("bounces.parser")
    dovecot.deliver(DSN)
    box = make_mailbox(dovecot)

    result = poll_mailbox(box.pk)

    assert (result.processed, result.error) == (1, "")
    event = BounceEvent.objects.get()
    assert (event.source, event.email, event.kind, event.status) == (
        "mailbox",
        "gone@example.org",
        "hard",
        "5.1.1",
    )


# --- validation ---------------------------------------------------------------------------------


def _errors(**fields: object) -> dict[str, list[str]]:
    values: dict[str, object] = {
        "name": "Bounces",
        "host": "imap.example.com",
        "username": "bounces",
        "password": "pw",
    }
    values.update(fields)
    with pytest.raises(ValidationError) as caught:
        create_mailbox(**values)  # type: ignore[arg-type]
    return caught.value.message_dict


def test_validation_explains_each_bad_field(db: None) -> None:
    assert _errors(port=0)["port"] == ["Port must be between 1 and 65535."]
    assert _errors(port=70000)["port"] == ["Port must be between 1 and 65535."]
    assert _errors(host="imap example.com")["host"] == ["Enter a host name or IP address."]
    assert _errors(host="")["host"] == ["Enter a host name or IP address."]
    assert _errors(password="")["password"] == ["Enter the mailbox password."]
    assert _errors(after_processing="move", move_to=" ")["move_to"] == [
        "Name the folder processed messages are moved to."
    ]
    assert "another folder" in _errors(after_processing="move", move_to="INBOX")["move_to"][0]


def test_pop3_cannot_move_or_read_other_folders(db: None) -> None:
    moving = _errors(protocol="pop3", port=995, after_processing="move")
    assert moving["after_processing"] == [
        "POP3 has no folders, so processed messages cannot be moved: choose "
        "“delete”, or connect with IMAP."
    ]
    assert _errors(protocol="pop3", port=995, folder="Bounces")["folder"] == [
        "POP3 only reads the inbox: leave the folder as INBOX, or use IMAP."
    ]


def test_updating_without_a_password_keeps_the_stored_one(db: None) -> None:
    box = create_mailbox(name="Bounces", host="imap.example.com", username="u", password="pw1")

    update_mailbox(
        mailbox=box,
        name="Bounces (renamed)",
        host="imap.example.com",
        username="u",
        password=None,
        protocol="imap",
        port=993,
        security="tls",
        folder="INBOX",
        after_processing="delete",
        move_to="",
        enabled=True,
    )

    box = Mailbox.objects.get(pk=box.pk)
    assert (box.name, box.password) == ("Bounces (renamed)", "pw1")


def test_two_mailboxes_cannot_share_a_name(db: None) -> None:
    create_mailbox(name="Bounces", host="imap.example.com", username="u", password="pw")

    assert _errors(name="Bounces")["name"] == ["A mailbox named 'Bounces' already exists."]
