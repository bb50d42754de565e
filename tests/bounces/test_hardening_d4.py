# ruff: noqa: E501
"""Fixes found by the fourth-author corpus (``corpus/*/d4-*.eml``), one table
per general rule. The wordings here differ from the corpus samples on purpose:
each fix must hold for the meaning, not for one template."""

from __future__ import annotations

import base64

import pytest

from bounces import arf, autoreply
from bounces.classify import classify_failure, find_basic_code
from bounces.decoding import parse_bytes, payload_bytes
from bounces.heuristics import diagnostic_block, unquoted
from bounces.parser import parse_message

WORDINGS = [
    # (reply under a generic 5.0.0 status, kind, reported status)
    # no such user
    ("550 that user does not have a mailbox here", "hard", "5.1.1"),
    ("550 we could not find the recipient in our directory", "hard", "5.1.1"),
    ("550 unable to find user anna", "hard", "5.1.1"),
    ("550 unknown local user anna", "hard", "5.1.1"),
    ("550 Requested action not taken: mailbox name invalid", "hard", "5.1.1"),
    ("550 the mailbox was removed by the administrator", "hard", "5.1.1"),
    ("550 Adresse nicht bekannt", "hard", "5.1.1"),
    ("550 destinatario non presente", "hard", "5.1.1"),
    ("550 mailadres is niet meer in gebruik", "hard", "5.1.1"),
    ("550 수신자를 찾을 수 없습니다", "hard", "5.1.1"),
    ("550 존재하지 않는 계정", "hard", "5.1.1"),
    # mailbox full
    ("550 inbox at full capacity", "soft", "5.2.2"),
    ("550 the mailbox has reached the maximum size", "soft", "5.2.2"),
    ("550 user is over disk limit", "soft", "5.2.2"),
    ("550 скринька заповнена", "soft", "5.2.2"),
    # domain does not exist
    ("553 illegal host/domain name", "hard", "5.1.2"),
    ("550 domain example.invalid with no MX hosts", "hard", "5.1.2"),
    ("550 no DNS record found for example.invalid", "hard", "5.1.2"),
    # spam, block, content
    ("554 listed on 3 RBLs", "soft", "5.7.1"),
    ("554 your IP appears on several DNSBLs", "soft", "5.7.1"),
    ("554 DT:SPM 163 smtp3", "soft", "5.7.1"),
    ("550 unacceptable content in message body", "soft", "5.7.1"),
    ("550 message held in quarantine", "soft", "5.7.1"),
    ("550 rejected by anti-spoofing rules", "soft", "5.7.1"),
    # message too big
    ("552 mail data too large", "soft", "5.3.4"),
    ("552 message exceeds the databytes setting", "soft", "5.3.4"),
    ("552 mailsize exceeds the limit", "soft", "5.3.4"),
    ("554 too much mail data", "soft", "5.3.4"),
    ("554 the message is too long", "soft", "5.3.4"),
    # mailbox disabled
    ("550 account locked due to inactivity", "hard", "5.2.1"),
    ("550 mailbox blocked because of prolonged inactivity", "hard", "5.2.1"),
    ("550 archived mailbox", "hard", "5.2.1"),
    ("550 la boite est archivee", "hard", "5.2.1"),
]


@pytest.mark.parametrize(("reply", "kind", "reported"), WORDINGS)
def test_more_wordings_for_the_same_meaning(reply: str, kind: str, reported: str) -> None:
    assert classify_failure(code=None, status="5.0.0", text=reply) == (kind, reported)


INACTIVITY_ONLY_UNDER_5XX = [
    # A transient reply stays transient; a plain block stays a block.
    ("451 account locked due to inactivity, try later", "soft"),
    ("550 blocked due to spam complaints", "soft"),
]


@pytest.mark.parametrize(("reply", "kind"), INACTIVITY_ONLY_UNDER_5XX)
def test_inactivity_outranks_block_words_only_for_a_permanent_refusal(
    reply: str, kind: str
) -> None:
    assert classify_failure(code=None, status=None, text=reply)[0] == kind


BASIC_CODES = [
    # (text, the basic reply code found)
    ("host mx.example.net[203.0.113.12] said: 550 no", 550),
    ("[250.1.2.3] said: 451 later", 451),
    ("said: 552. Too big", 552),
    ("error 421", 421),
]


@pytest.mark.parametrize(("text", "code"), BASIC_CODES)
def test_an_ip_address_is_not_a_reply_code(text: str, code: int) -> None:
    assert find_basic_code(text) == code


DIAGNOSTIC_BLOCKS = [
    (
        "<a@x.example>: host mx.x.example[192.0.2.1] said: 550\n    Requested action aborted (in reply to RCPT TO\n    command)",
        "<a@x.example>: host mx.x.example[192.0.2.1] said: 550 Requested action aborted (in reply to RCPT TO command)",
    ),
    ("<b@x.example>:\n550\n  odd failure", "550 odd failure"),
]


@pytest.mark.parametrize(("segment", "block"), DIAGNOSTIC_BLOCKS)
def test_a_reply_code_at_the_end_of_a_wrapped_line_starts_the_diagnostic(
    segment: str, block: str
) -> None:
    assert diagnostic_block(segment) == block


FEEDBACK_FIELDS = [
    ("Feedback-Type: abuse\nOriginal-Mail-From: <a@b.example>\n", True),
    ("Feedback-Type: abuse\nArrival-Date: Wed, 9 Apr 2025 07:30:11 +0000\n", True),
    ("Feedback-Type: abuse\nSource-IP: 192.0.2.1\n", True),
    ("Feedback-Type: abuse\nReported-Domain: b.example\n", True),
    ("Feedback-Type: abuse\nVersion: 1\n", True),
    # A lone Feedback-Type line (someone quoting a header) is no report.
    ("Feedback-Type: abuse\nThanks for the newsletter!\n", False),
]


@pytest.mark.parametrize(("text", "is_report"), FEEDBACK_FIELDS)
def test_a_feedback_report_without_version(text: str, is_report: bool) -> None:
    assert arf.looks_like_feedback_report(text) is is_report


def _encoded_rfc822(cte: str, body: bytes) -> bytes:
    return (
        b"Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: message/rfc822\n"
        b"Content-Transfer-Encoding: " + cte.encode() + b"\n\n" + body + b"\n--B--\n"
    )


ENCODED_ORIGINALS = [
    ("base64", base64.encodebytes(b"From: a@b.example\nTo: kim@c.example\n\nhi\n")),
    ("quoted-printable", b"From: a@b.example\nTo: kim=40c.example\n\nhi\n"),
]


@pytest.mark.parametrize(("cte", "body"), ENCODED_ORIGINALS)
def test_an_encoded_returned_message_is_decoded(cte: str, body: bytes) -> None:
    raw = b"From: fbl@isp.example\nSubject: report\nMIME-Version: 1.0\n" + _encoded_rfc822(
        cte, body
    ).replace(b"multipart/mixed", b"multipart/report; report-type=feedback-report")
    report = parse_message(raw)
    assert report.kind == "complaint"
    assert [r.email for r in report.recipients] == ["kim@c.example"]


def test_eight_bit_delivery_status_keeps_its_characters() -> None:
    raw = (
        "Content-Type: multipart/report; report-type=delivery-status; boundary=B\n\n"
        "--B\nContent-Type: message/delivery-status; charset=utf-8\n\n"
        "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; o@u.example\n"
        "Action: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 Скринька переповнена\n--B--\n"
    ).encode()
    part = next(p for p in parse_bytes(raw).walk() if p.get_content_type().startswith("message/d"))
    assert "Скринька переповнена" in payload_bytes(part).decode()
    assert parse_message(raw).recipients[0].status == "5.2.2"


UNQUOTED = [
    ("I got 550.\n> could not be delivered\n", "I got 550.\n\n"),
    ("Hi\nOn Wed, 9 Apr 2025, News <n@x.example> wrote:\nundeliverable\n", "Hi\n"),
    ("no quotation here\n", "no quotation here\n"),
]


@pytest.mark.parametrize(("text", "left"), UNQUOTED)
def test_a_replys_quotation_is_not_evidence(text: str, left: str) -> None:
    assert unquoted(text) == left


def _plain(subject: str, body: str, *, frm: str, return_path: str) -> bytes:
    return (
        f"Return-Path: {return_path}\nFrom: {frm}\nTo: n@send.example\nSubject: {subject}\n"
        f"Content-Type: text/plain\n\n{body}\n"
    ).encode()


NOT_BOUNCES = [
    # A person's reply that talks about a failure.
    (
        "Re: April news",
        "Your mail to my boss could not be delivered: 550 user unknown (boss@x.example).",
    ),
    ("AW: April news", "Sorry, I got 'undeliverable' when writing to help@x.example, 552 full."),
    # A newsletter with delivery words and no address.
    ("Mail tips", "Learn why mail was not delivered and how spam filters work."),
]


@pytest.mark.parametrize(("subject", "body"), NOT_BOUNCES)
def test_mail_from_a_person_with_bounce_words_is_no_bounce(subject: str, body: str) -> None:
    raw = _plain(subject, body, frm="Pat <pat@y.example>", return_path="<pat@y.example>")
    assert parse_message(raw).kind == "not_bounce"


def test_a_null_sender_notice_that_names_nobody_stays_a_bounce() -> None:
    raw = _plain(
        "Notice",
        "Your message could not be delivered: 550 user unknown.",
        frm="Gateway <gw@y.example>",
        return_path="<>",
    )
    assert parse_message(raw).kind == "hard"


QUARANTINE = [
    ("Message quarantined", "Your message to ana@z.example was quarantined by the gateway."),
    ("Notice", "Your message to ana@z.example has been placed in quarantine."),
]


@pytest.mark.parametrize(("subject", "body"), QUARANTINE)
def test_a_quarantine_notice_is_a_soft_bounce(subject: str, body: str) -> None:
    raw = _plain(subject, body, frm="Gateway <gw@z.example>", return_path="<>")
    report = parse_message(raw)
    assert (report.kind, [(r.email, r.status) for r in report.recipients]) == (
        "soft",
        [("ana@z.example", "5.7.1")],
    )


CALENDAR = [
    ("BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\nEND:VEVENT\nEND:VCALENDAR\n", True),
    ("begin:vcalendar\r\nmethod:REPLY\r\nend:vcalendar\r\n", True),
    # An invitation (REQUEST) is not an answer.
    ("BEGIN:VCALENDAR\nMETHOD:REQUEST\nEND:VCALENDAR\n", False),
    ("method:reply mentioned in prose\n", False),
]


@pytest.mark.parametrize(("text", "is_reply"), CALENDAR)
def test_a_calendar_reply_is_an_autoreply(text: str, is_reply: bool) -> None:
    assert autoreply.calendar_reply([text]) is is_reply
