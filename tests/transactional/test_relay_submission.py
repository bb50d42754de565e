"""An application submits mail to the relay; it is stored before the 250 and sent by the worker."""

from __future__ import annotations

import smtplib
from email import message_from_bytes
from email.policy import default as default_policy

import dkim as dkimpy
import pytest
from django.db import connection

from delivery import domains
from postino import jobs
from tests.dkim.conftest import serve_dns
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer
from tests.transactional.conftest import (
    SHOP_DOMAIN,
    RunningRelay,
    order_confirmation,
    queued_ids,
    submit,
)
from transactional.credentials import NewCredential
from transactional.models import TxMessage, TxPayload
from transactional.sending import drain


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> None:
    # Sending domains' keys are cached per process; each test makes its own.
    domains.clear_key_cache()


def test_a_message_submitted_over_starttls_is_stored_then_sent_signed_with_a_message_id(
    relay: RunningRelay,
    shop: NewCredential,
    smtpd: RunningSmtpServer,
    queued_jobs: QueuedJobs,
) -> None:
    make_smtp_server(smtpd)
    sending_domain = domains.create_sending_domain(domain=SHOP_DOMAIN, selector="pst")

    with relay.login(shop) as client:
        code, reply = submit(client, order_confirmation())

    assert code == 250, reply
    [public_id] = queued_ids(reply)
    message = TxMessage.objects.get(public_id=public_id)
    assert (message.status, message.source, message.email) == ("queued", "relay", "ada@example.com")
    assert message.credential_id == shop.credential.pk
    # The transactional worker is woken once the message is committed.
    assert queued_jobs.of(jobs.DRAIN_TRANSACTIONAL) == [()]

    assert drain() == 1

    message.refresh_from_db()
    assert message.status == TxMessage.Status.SENT
    [received] = smtpd.handler.messages
    assert received.rcpt_tos == ("ada@example.com",)
    parsed = received.parsed()
    assert parsed["Message-ID"] and parsed["Message-ID"].strip() == message.message_id
    assert parsed["Subject"] == "Your order"
    assert dkimpy.verify(received.data, dnsfunc=serve_dns(sending_domain))


def test_the_message_is_committed_before_the_client_hears_250(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.login(shop) as client:
        code, reply = submit(client, order_confirmation())
        assert code == 250, reply
        [public_id] = queued_ids(reply)
        # Still inside the SMTP session, from this test's own database
        # connection: the relay's transaction has committed already, so a
        # relay that died right after its 250 would have lost nothing.
        assert connection.in_atomic_block is False
        stored = TxMessage.objects.select_related("payload").get(public_id=public_id)
    assert stored.payload is not None
    assert b"Thank you for your order." in bytes(stored.payload.raw)


def test_each_recipient_is_one_message_sharing_one_payload(
    relay: RunningRelay, shop: NewCredential
) -> None:
    recipients = tuple(f"reader{number}@example.com" for number in range(12))

    with relay.login(shop) as client:
        code, reply = submit(client, order_confirmation(), rcpt_to=recipients)

    assert code == 250, reply
    ids = queued_ids(reply)
    assert len(ids) == 12
    # A reply line stays within SMTP's 512 octets: the ids come over several lines.
    assert all(len(line) < 512 for line in reply.splitlines())
    messages = TxMessage.objects.filter(public_id__in=ids)
    assert sorted(messages.values_list("email", flat=True)) == sorted(recipients)
    assert TxPayload.objects.count() == 1


def test_a_connection_keeps_sending_after_the_first_message(
    relay: RunningRelay, shop: NewCredential
) -> None:
    with relay.login(shop) as client:
        replies = [submit(client, order_confirmation(body=f"Order {n}")) for n in range(3)]

    assert [code for code, _ in replies] == [250, 250, 250]
    assert TxMessage.objects.count() == 3


def test_implicit_tls_takes_the_whole_session_encrypted(
    implicit_tls_relay: RunningRelay, shop: NewCredential
) -> None:
    with implicit_tls_relay.connect() as client:
        assert "starttls" not in client.esmtp_features
        assert "PLAIN" in client.esmtp_features["auth"].split()
        client.login(shop.credential.username, shop.password)
        code, reply = submit(client, order_confirmation())

    assert code == 250, reply
    assert TxMessage.objects.filter(public_id__in=queued_ids(reply)).count() == 1


def test_auth_login_works_as_well_as_plain(relay: RunningRelay, shop: NewCredential) -> None:
    with relay.connect() as client:
        client.user, client.password = shop.credential.username, shop.password
        code, _ = client.auth("LOGIN", client.auth_login)
        assert code == 235
        assert submit(client, order_confirmation())[0] == 250


def test_the_same_idempotency_key_twice_stores_one_message(
    relay: RunningRelay, shop: NewCredential
) -> None:
    message = order_confirmation(headers={"Idempotency-Key": "order-1041"})

    with relay.login(shop) as client:
        first_code, first = submit(client, message)
        second_code, second = submit(client, message)

    assert (first_code, second_code) == (250, 250)
    assert "already queued" in second
    assert queued_ids(second) == queued_ids(first)
    assert TxMessage.objects.count() == 1
    # The steering header is ours: it does not reach the recipient.
    stored = TxMessage.objects.select_related("payload").get()
    assert stored.payload is not None
    sent = message_from_bytes(bytes(stored.payload.raw), policy=default_policy)
    assert sent["Idempotency-Key"] is None


def test_the_size_advertised_is_the_logins_own_once_logged_in(
    relay: RunningRelay, shop: NewCredential
) -> None:
    shop.credential.max_message_bytes = 50_000
    shop.credential.save(update_fields=["max_message_bytes"])

    with relay.connect() as client:
        before = int(client.esmtp_features["size"])
        client.login(shop.credential.username, shop.password)
        client.ehlo("app.example.com")
        after = int(client.esmtp_features["size"])

    assert before == 10 * 1024 * 1024  # TX_MAX_MESSAGE_BYTES
    assert after == 50_000


def test_an_application_may_quit_cleanly(relay: RunningRelay, shop: NewCredential) -> None:
    client = relay.login(shop)
    code, _ = client.quit()
    assert code == 221
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
