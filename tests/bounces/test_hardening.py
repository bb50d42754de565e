# ruff: noqa: RUF001
"""Fixes found by the second-author corpus (``corpus/*/b2-*.eml``), one table
per general rule, so each keeps working when phrase lists change."""

from __future__ import annotations

import json

import pytest

from bounces.parser import classify_smtp_reply, parse_message

REPLIES = [
    # (code, text, kind, status)
    # RFC 5321's 552 wording, and a bare 552: storage, so soft.
    (552, "552 Requested mail action aborted: exceeded storage allocation", "soft", "5.2.2"),
    (552, "552 Requested mail action aborted", "soft", "5.2.2"),
    (552, "552 5.1.1 <a@example.com>: user unknown", "hard", "5.1.1"),
    (550, "550 Requested mail action aborted", "hard", "5.0.0"),
    # Mail loops are the receiver's routing problem.
    (None, 'Too many "Received" headers - suspected mail loop', "soft", "5.4.6"),
    (554, "554 5.4.0 Error: too many hops", "soft", "5.4.0"),
    (554, "554 mail for a@example.com loops back to myself", "soft", "5.4.6"),
    # T-Online's block list marker.
    (
        554,
        "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help.) (BL)",
        "soft",
        "5.7.1",
    ),
    # The owner between the noun and the verb ("the recipient's account ...").
    (None, "Das Konto des Empfängers wurde gesperrt.", "hard", "5.2.1"),
    (None, "Le compte du destinataire est désactivé.", "hard", "5.2.1"),
    (None, "La cuenta del destinatario está suspendida.", "hard", "5.2.1"),
    (None, "La casella di posta del destinatario è disattivata.", "hard", "5.2.1"),
    (None, "A conta do destinatário está desativada.", "hard", "5.2.1"),
    (None, "Konto odbiorcy zostało zablokowane.", "hard", "5.2.1"),
    (None, "Účet příjemce byl zablokován.", "hard", "5.2.1"),
    # Czech.
    (None, "Adresát neexistuje.", "hard", "5.1.1"),
    (550, "550 Uživatel nenalezen", "hard", "5.1.1"),
    (None, "Schránka příjemce je plná.", "soft", "5.2.2"),
    # Quota in other words.
    (None, "Das Postfach des Empfängers hat das Speicherlimit erreicht.", "soft", "5.2.2"),
    (None, "La boîte a atteint sa limite de stockage.", "soft", "5.2.2"),
    (None, "la casella ha superato il limite di spazio disponibile", "soft", "5.2.2"),
    (None, "El buzón ha superado su cuota de almacenamiento.", "soft", "5.2.2"),
    (None, "メールボックスの容量が超過しています。", "soft", "5.2.2"),
]


@pytest.mark.parametrize(("code", "text", "kind", "status"), REPLIES)
def test_it_classifies_the_reply(code: int | None, text: str, kind: str, status: str) -> None:
    assert classify_smtp_reply(code, text) == (kind, status)


AUTOREPLY_SUBJECTS = [
    "Autoodpowiedź: Twelve recipes",
    "Frånvaro: Twelve recipes",
    "Automatisk svar: Twelve recipes",
    "Automaattinen vastaus: Twelve recipes",
    "Automatická odpověď: Twelve recipes",
    "Otomatik yanıt: Twelve recipes",
    "자동 회신: Twelve recipes",
    "Automatikus válasz: Twelve recipes",
    "I'm away until 3 March",
    "I'm on holiday",
]


@pytest.mark.parametrize("subject", AUTOREPLY_SUBJECTS)
def test_an_autoreply_subject_in_many_languages_is_an_autoreply(subject: str) -> None:
    raw = (
        f"From: someone@corp.example\nTo: letters@postino.example.com\nSubject: {subject}\n"
        "Content-Type: text/plain; charset=utf-8\n\nBack next week.\n"
    ).encode()
    assert parse_message(raw).kind == "autoreply"


def test_an_exchange_inbox_rule_reply_is_an_autoreply_even_with_a_reply_subject() -> None:
    raw = (
        b"From: kay@corp.example\nTo: letters@postino.example.com\n"
        b"Subject: RE: Twelve recipes\nX-Auto-Response-Suppress: All\n"
        b"X-MS-Exchange-Inbox-Rules-Loop: kay@corp.example\n\nOn leave until April.\n"
    )
    assert parse_message(raw).kind == "autoreply"


def test_a_reply_subject_without_the_rule_header_is_a_human_reply() -> None:
    raw = b"From: kay@corp.example\nSubject: RE: Twelve recipes\n\nThanks!\n"
    assert parse_message(raw).kind == "not_bounce"


def test_an_ses_notification_inside_an_sns_envelope_is_read() -> None:
    inner = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "a@example.com", "status": "5.1.1"}],
        },
        "mail": {"messageId": "m1"},
    }
    envelope = {"Type": "Notification", "Message": json.dumps(inner)}
    raw = (
        "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n"
        + json.dumps(envelope, indent=2)
    ).encode()
    report = parse_message(raw)
    assert report.kind == "hard"
    assert [(r.email, r.status) for r in report.recipients] == [("a@example.com", "5.1.1")]


def test_a_raw_utf8_subject_is_decoded_not_replaced() -> None:
    from bounces.decoding import header, parse_bytes

    msg = parse_bytes("Subject: Недоставленное сообщение\n\n".encode())
    assert header(msg, "subject") == "Недоставленное сообщение"
