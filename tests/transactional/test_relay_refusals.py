"""What the relay refuses, and how: early, with a code that tells the application
whether to try again (4xx) or give the message up (5xx)."""

from __future__ import annotations

import base64
import smtplib
from typing import Any

import pytest

from bounces.models import Suppression
from bounces.services import add_manual_suppression
from tests.transactional.conftest import RunningRelay, order_confirmation, submit
from transactional import relay as relay_module
from transactional import relay_limits
from transactional.credentials import NewCredential, create_credential, revoke_credential
from transactional.models import TxMessage


def plain_login(client: smtplib.SMTP, username: str, password: str) -> tuple[int, str]:
    """One AUTH PLAIN attempt (smtplib's ``login`` would try every mechanism)."""
    client.user, client.password = username, password
    try:
        code, reply = client.auth("PLAIN", client.auth_plain)
    except smtplib.SMTPAuthenticationError as exc:
        error = exc.smtp_error
        return exc.smtp_code, error.decode() if isinstance(error, bytes) else error
    return code, reply.decode()


@pytest.fixture
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    # In the middle of a minute: no limit window ends during the test.
    monkeypatch.setattr(relay_limits, "clock", lambda: 1_800_000_030.0)


# --- encryption and login --------------------------------------------------------------


def test_in_the_clear_auth_is_not_offered_and_nothing_but_starttls_is_accepted(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.connect(tls=False) as client:
        assert "starttls" in client.esmtp_features
        assert "auth" not in client.esmtp_features
        token = base64.b64encode(f"\0{shop.credential.username}\0{shop.password}".encode()).decode()
        code, reply = client.docmd("AUTH", f"PLAIN {token}")
        assert (code, reply) == (530, b"5.7.0 Must issue a STARTTLS command first")
        assert client.mail("orders@shop.example.com")[0] == 530


def test_mail_before_logging_in_is_refused(relay: RunningRelay, shop: NewCredential) -> None:
    with relay.connect() as client:
        assert client.mail("orders@shop.example.com") == (
            530,
            b"5.7.0 Authentication required",
        )


def test_a_wrong_password_is_refused(relay: RunningRelay, shop: NewCredential) -> None:
    with relay.connect() as client:
        code, reply = plain_login(client, shop.credential.username, "not-the-password")
    assert (code, reply) == (535, "5.7.8 Authentication credentials invalid")


def test_an_ip_that_keeps_guessing_may_not_log_in_until_the_window_passes(
    relay: RunningRelay, shop: NewCredential, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "SMTP_RELAY_AUTH_FAILURES": 3}
    with relay.connect() as client:
        answers = [plain_login(client, shop.credential.username, "guess")[0] for _ in range(3)]
        assert answers == [535, 535, 535]
        # Now even the right password is refused, or guessing would go on.
        code, reply = plain_login(client, shop.credential.username, shop.password)
        assert (code, reply) == (454, "4.7.0 Too many failed logins, try later")
    # On a new connection too: the count is per IP, in Redis.
    with relay.connect() as client:
        assert plain_login(client, shop.credential.username, shop.password)[0] == 454
    assert relay_limits.redis_client().ttl("postino:relay:auth-failures:127.0.0.1") > 0


def test_a_revoked_login_no_longer_works(relay: RunningRelay, shop: NewCredential) -> None:
    revoke_credential(shop.credential)
    with relay.connect() as client:
        assert plain_login(client, shop.credential.username, shop.password)[0] == 535


def test_a_login_revoked_while_connected_is_refused_at_the_next_message(
    relay: RunningRelay, shop: NewCredential, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The relay re-reads a login every CREDENTIAL_REFRESH_SECONDS; here, at every MAIL.
    monkeypatch.setattr(relay_module, "CREDENTIAL_REFRESH_SECONDS", 0.0)
    with relay.login(shop) as client:
        assert submit(client, order_confirmation())[0] == 250
        revoke_credential(shop.credential)
        code, reply = submit(client, order_confirmation())
    assert code == 530 and reply.startswith("5.7.0"), reply
    assert TxMessage.objects.count() == 1


# --- who may send ----------------------------------------------------------------------


def test_a_sender_outside_the_logins_domains_is_refused_at_mail(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.login(shop) as client:
        code, reply = submit(client, order_confirmation(), mail_from="ceo@bank.example")
    assert code == 550 and reply.startswith("5.7.1"), reply


def test_a_from_header_outside_the_logins_domains_is_refused_after_data(
    relay: RunningRelay, shop: NewCredential
) -> None:
    forged = order_confirmation(sender="ceo@bank.example")
    with relay.login(shop) as client:
        code, reply = submit(client, forged)
    assert code == 550 and reply.startswith("5.7.1"), reply
    assert TxMessage.objects.count() == 0


def test_a_subdomain_of_an_allowed_domain_may_send(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.login(shop) as client:
        code, reply = submit(
            client,
            order_confirmation(sender="orders@eu.shop.example.com"),
            mail_from="bounces@eu.shop.example.com",
        )
    assert code == 250, reply


# --- who may receive -------------------------------------------------------------------


def test_a_suppressed_recipient_is_refused_at_rcpt_with_the_reason(
    relay: RunningRelay, shop: NewCredential
) -> None:
    add_manual_suppression(email="gone@example.com", note="asked us", actor=None)
    assert Suppression.objects.count() == 1
    with relay.login(shop) as client:
        client.mail("orders@shop.example.com")
        code, reply = client.rcpt("gone@example.com")
        assert code == 550 and reply.startswith(b"5.7.1 suppressed"), reply
        # The rest of the message still goes to the others.
        assert client.rcpt("ada@example.com")[0] == 250
        assert client.data(order_confirmation())[0] == 250
    assert list(TxMessage.objects.values_list("email", flat=True)) == ["ada@example.com"]


def test_something_that_is_not_an_address_is_refused_at_rcpt(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.login(shop) as client:
        client.mail("orders@shop.example.com")
        code, _ = client.rcpt("not-an-address")
    assert code == 553


def test_too_many_recipients_are_refused_temporarily_one_by_one(
    relay: RunningRelay, shop: NewCredential, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "TX_MAX_RECIPIENTS": 2}
    with relay.login(shop) as client:
        client.mail("orders@shop.example.com")
        codes = [client.rcpt(f"reader{n}@example.com")[0] for n in range(3)]
    # 452: the client sends the rest in another message.
    assert codes == [250, 250, 452]


# --- size and limits ---------------------------------------------------------------------


@pytest.fixture
def small_shop(transactional_db: None) -> NewCredential:
    return create_credential(
        name="Small shop", allowed_from_domains=["shop.example.com"], max_message_bytes=2_000
    )


def test_a_message_announced_too_big_is_refused_at_mail(
    relay: RunningRelay, small_shop: NewCredential
) -> None:
    with relay.login(small_shop) as client:
        code, reply = client.mail("orders@shop.example.com", options=["SIZE=5000"])
    assert (code, reply) == (552, b"5.3.4 Message too big")


def test_a_message_too_big_is_refused_after_data_and_not_stored(
    relay: RunningRelay, small_shop: NewCredential
) -> None:
    with relay.login(small_shop) as client:
        code, reply = submit(client, order_confirmation(body="\r\n".join(["x" * 70] * 50)))
    assert (code, reply) == (552, "5.3.4 Message too big")
    assert TxMessage.objects.count() == 0


def test_the_per_minute_limit_answers_451_and_counts_only_stored_messages(
    relay: RunningRelay, pinned_clock: None
) -> None:
    limited = create_credential(
        name="Limited", allowed_from_domains=["shop.example.com"], messages_per_minute=2
    )
    with relay.login(limited) as client:
        # Refused after DATA: it does not use up the allowance.
        forged = order_confirmation(sender="ceo@bank.example")
        assert submit(client, forged)[0] == 550
        assert submit(client, order_confirmation())[0] == 250
        assert submit(client, order_confirmation())[0] == 250
        code, reply = submit(client, order_confirmation())
    assert code == 451 and reply.startswith("4.7.1"), reply
    assert TxMessage.objects.count() == 2


def test_the_per_day_limit_counts_recipients(relay: RunningRelay, pinned_clock: None) -> None:
    limited = create_credential(
        name="Daily", allowed_from_domains=["shop.example.com"], messages_per_day=3
    )
    with relay.login(limited) as client:
        client.mail("orders@shop.example.com")
        codes = [client.rcpt(f"reader{n}@example.com")[0] for n in range(4)]
        assert client.data(order_confirmation())[0] == 250
    assert codes == [250, 250, 250, 451]
    assert TxMessage.objects.count() == 3
