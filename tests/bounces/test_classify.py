"""The hard/soft decision for one SMTP reply (table-driven)."""

from __future__ import annotations

import pytest

from bounces.parser import classify_smtp_reply

CASES = [
    # (code, text, kind, status)
    (550, "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown", "hard", "5.1.1"),
    (550, "5.1.1 The email account that you tried to reach does not exist.", "hard", "5.1.1"),
    (550, "550 5.7.1 Message rejected as spam", "soft", "5.7.1"),
    (552, "552 5.2.2 Mailbox full", "soft", "5.2.2"),
    (552, "552-5.2.2 The email account that you tried to reach is over quota", "soft", "5.2.2"),
    (550, "550 mailbox unavailable: user unknown", "hard", "5.1.1"),
    (550, "550 No such user here", "hard", "5.1.1"),
    (550, "550 Invalid recipient", "hard", "5.1.1"),
    (550, "550 Recipient rejected", "hard", "5.1.1"),
    (550, "550 Address rejected", "hard", "5.1.1"),
    (550, "550 5.5.0 Requested action not taken: mailbox unavailable", "hard", "5.5.0"),
    (550, "Requested action not taken: mailbox unavailable", "hard", "5.1.1"),
    (450, "450 4.2.1 Mailbox unavailable", "soft", "4.2.1"),
    (550, "550 5.1.10 RESOLVER.ADR.RecipientNotFound", "hard", "5.1.10"),
    (550, "550 5.2.1 The email account that you tried to reach is disabled", "hard", "5.2.1"),
    (550, "550 5.1.6 Recipient mailbox has moved", "hard", "5.1.6"),
    (450, "450 4.2.0 <a@example.com>: Recipient address rejected: Greylisted", "soft", "4.2.0"),
    (421, "421 4.7.28 unusual rate of unsolicited mail originating from your IP", "soft", "4.7.28"),
    (421, "421 Too many connections from your host", "soft", "4.7.0"),
    (552, "552 5.3.4 Message size exceeds fixed maximum message size", "soft", "5.3.4"),
    (
        554,
        "554 5.7.1 Service unavailable; client host blocked using zen.spamhaus.org",
        "soft",
        "5.7.1",
    ),
    (554, "554 Your message was blocked", "soft", "5.7.1"),
    (550, "550 5.7.1 <a@example.com>: Relay access denied", "soft", "5.7.1"),
    (
        550,
        "550 5.7.26 Unauthenticated email is not accepted due to domain's DMARC policy",
        "soft",
        "5.7.26",
    ),
    (
        553,
        "553 5.1.8 <news@shop.example>: Sender address rejected: Domain not found",
        "soft",
        "5.1.8",
    ),
    (550, "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)", "hard", "5.4.1"),
    (550, "550 5.1.2 Host unknown", "hard", "5.1.2"),
    (None, "Host or domain name not found. Name service error: Host not found", "hard", "5.1.2"),
    (None, "Host not found, try again", "soft", "4.4.3"),
    (554, "554 delivery error: dd This user doesn't have a yahoo.com account", "hard", "5.1.1"),
    (554, "554 delivery error: dd This mailbox is disabled (554.30)", "hard", "5.2.1"),
    (550, "550 Benutzer unbekannt", "hard", "5.1.1"),
    (552, "552 Postfach voll", "soft", "5.2.2"),
    (552, "552 boîte pleine", "soft", "5.2.2"),
    (552, "552 casella piena", "soft", "5.2.2"),
    (550, "550 5.0.0 some reason nobody wrote down", "hard", "5.0.0"),
    (550, "", "hard", "5.0.0"),
    (None, "", "soft", None),
    (451, "451 4.3.0 Temporary local problem", "soft", "4.3.0"),
]


@pytest.mark.parametrize(("code", "text", "kind", "status"), CASES)
def test_it_classifies_the_reply(
    code: int | None, text: str, kind: str, status: str | None
) -> None:
    assert classify_smtp_reply(code, text) == (kind, status)


def test_a_4xx_reply_is_never_hard_whatever_it_says() -> None:
    assert classify_smtp_reply(450, "450 4.1.1 User unknown")[0] == "soft"


def test_an_ip_address_is_not_read_as_a_status() -> None:
    assert classify_smtp_reply(550, "550 rejected from 10.5.1.1 user unknown") == ("hard", "5.1.1")
