"""Fixes found by the third-author corpus (``corpus/*/c3-*.eml``), one table
per general rule."""

from __future__ import annotations

import pytest

from bounces.classify import classify_failure
from bounces.decoding import decode_bytes, header, parse_bytes
from bounces.heuristics import find_candidates
from bounces.parser import parse_message

GENERIC_STATUSES = [
    # (status, reply, kind, reported status)
    ("5.0.0", "550 User unknown in local recipient table", "hard", "5.1.1"),
    ("5.0.0", "552 Mailbox full", "soft", "5.2.2"),
    ("4.0.0", "452 Quota exceeded, try later", "soft", "4.2.2"),
    ("5.0.0", "550 This account has been disabled", "hard", "5.2.1"),
    ("5.0.0", "Host or domain name not found", "hard", "5.1.2"),
    ("5.0.0", "552 Message size exceeds fixed maximum message size", "soft", "5.3.4"),
    ("5.0.0", "554 Message rejected as spam", "soft", "5.7.1"),
    ("4.0.0", "450 Greylisted, try again later", "soft", "4.2.0"),
    # The reply's own enhanced code beats inference from its words.
    ("5.0.0", "550 5.1.10 RecipientNotFound", "hard", "5.1.10"),
    ("4.0.0", "451 4.7.1 Greylisting in action", "soft", "4.7.1"),
    # A specific status is kept whatever the words say.
    ("5.2.2", "552 user unknown or over quota", "soft", "5.2.2"),
    # No words to go on: the generic status stays.
    ("5.0.0", "550 Requested action not taken", "hard", "5.0.0"),
]


@pytest.mark.parametrize(("status", "reply", "kind", "reported"), GENERIC_STATUSES)
def test_a_generic_status_gives_way_to_what_the_reply_says(
    status: str, reply: str, kind: str, reported: str
) -> None:
    assert classify_failure(code=None, status=status, text=reply) == (kind, reported)


def _dsn(*blocks: str, outer: str = "") -> str:
    return (
        "From: MAILER-DAEMON@mx.example\nTo: letters@postino.example.com\n"
        "Subject: Undelivered Mail\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nFailed.\n\n--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example\n\n" + "\n".join(blocks) + "\n--b--\n"
    )


def test_a_delayed_recipient_with_a_generic_status_takes_the_replys_detail() -> None:
    raw = _dsn(
        "Final-Recipient: rfc822; a@example.org\nAction: delayed\nStatus: 4.0.0\n"
        "Diagnostic-Code: smtp; 452 Mailbox full\n"
    )
    report = parse_message(raw.encode())
    assert [(r.kind, r.status) for r in report.recipients] == [("delay", "4.2.2")]


MIXED_OUTCOMES = [
    # (actions and statuses, overall kind): hard > soft > delay > not_bounce.
    ([("failed", "5.1.1"), ("delayed", "4.4.1"), ("delivered", "2.0.0")], "hard"),
    ([("delayed", "4.4.1"), ("failed", "5.2.2")], "soft"),
    ([("delivered", "2.0.0"), ("delayed", "4.4.7")], "delay"),
    ([("relayed", "2.0.0"), ("delivered", "2.0.0")], "not_bounce"),
]


@pytest.mark.parametrize(("outcomes", "overall"), MIXED_OUTCOMES)
def test_each_recipient_keeps_its_outcome_and_the_worst_names_the_report(
    outcomes: list[tuple[str, str]], overall: str
) -> None:
    blocks = [
        f"Final-Recipient: rfc822; r{i}@example.org\nAction: {action}\nStatus: {status}\n"
        for i, (action, status) in enumerate(outcomes)
    ]
    report = parse_message(_dsn(*blocks).encode())
    assert report.kind == overall
    assert [(r.action, r.status) for r in report.recipients] == outcomes


def _wrap(head: str, inner: str) -> bytes:
    return (
        head + 'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="w"\n\n'
        "--w\nContent-Type: text/plain\n\nSee attached.\n\n"
        f"--w\nContent-Type: message/rfc822\n\n{inner}\n--w--\n"
    ).encode()


ARF = (
    "From: fbl@isp.example\nSubject: report\nMIME-Version: 1.0\n"
    'Content-Type: multipart/report; report-type=feedback-report; boundary="a"\n\n'
    "--a\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: x/1\n"
    "Version: 1\nOriginal-Rcpt-To: c@isp.example\n\n--a--\n"
)
DSN = _dsn(
    "Final-Recipient: rfc822; h@example.org\nAction: failed\nStatus: 5.1.1\n"
    "Diagnostic-Code: smtp; 550 5.1.1 User unknown\n"
)
WRAPPERS = [
    # (outer headers, attached message, kind, recipients)
    ("From: sam@club.example\nSubject: Fwd: Undelivered Mail\n", DSN, "hard", ["h@example.org"]),
    (
        "From: list-bounces@club.example\nSubject: Uncaught bounce notification\n",
        DSN,
        "hard",
        ["h@example.org"],
    ),
    ("From: gw@gateway.example\nSubject: Delivery failure\n", DSN, "hard", ["h@example.org"]),
    ("From: abuse@hosting.example\nSubject: Fwd: complaint\n", ARF, "complaint", ["c@isp.example"]),
    # A forwarded copy of our own mail is not a report.
    (
        "From: sam@club.example\nSubject: Fwd: news\n",
        "From: letters@postino.example.com\nTo: sam@club.example\nSubject: news\n\nHi\n",
        "not_bounce",
        [],
    ),
]


@pytest.mark.parametrize(("outer", "inner", "kind", "emails"), WRAPPERS)
def test_a_report_attached_to_a_wrapper_is_unwrapped(
    outer: str, inner: str, kind: str, emails: list[str]
) -> None:
    report = parse_message(_wrap(outer, inner))
    assert report.kind == kind
    assert [r.email for r in report.recipients] == emails


def test_two_levels_of_forwarding_are_unwrapped_but_not_three() -> None:
    head = "From: sam@club.example\nSubject: Fwd: bounce\n"
    two = _wrap(head, _wrap(head, DSN).decode()).decode()
    assert parse_message(two.encode()).kind == "hard"
    assert parse_message(_wrap(head, two)).kind != "hard"


GERMAN = "Empfänger unbekannt: Grüße"
DECODINGS = [
    # (bytes, declared charset, text)
    (
        b"\xff\xfe" + "Zustellung fehlgeschlagen".encode("utf-16-le"),
        "utf-8",
        "Zustellung fehlgeschlagen",
    ),
    (b"\xfe\xff" + "Zustellung".encode("utf-16-be"), None, "Zustellung"),
    (b"\xef\xbb\xbfOK", None, "OK"),
    ("收件人地址不存在".encode("gbk"), None, "收件人地址不存在"),
    ("このユーザーは存在しません".encode("shift_jis"), None, "このユーザーは存在しません"),
    ("пользователь не найден".encode("koi8-r"), None, "пользователь не найден"),
    ("пользователь не найден".encode("cp1251"), None, "пользователь не найден"),
    (GERMAN.encode("cp1252"), None, GERMAN),
    ("déjà vu".encode("cp1252"), None, "déjà vu"),
]


@pytest.mark.parametrize(("data", "charset", "text"), DECODINGS)
def test_undeclared_or_mislabelled_text_is_decoded(
    data: bytes, charset: str | None, text: str
) -> None:
    assert decode_bytes(data, charset) == text


def test_a_raw_8bit_header_is_read_in_the_charset_the_message_declares() -> None:
    raw = (
        b"Subject: " + "Недоставленное сообщение".encode("koi8-r") + b"\n"
        b"Content-Type: text/plain; charset=koi8-r\n\nx\n"
    )
    assert header(parse_bytes(raw), "subject") == "Недоставленное сообщение"


def test_rfc2231_parameters_and_a_missing_final_boundary_are_read() -> None:
    raw = DSN.replace(
        'report-type=delivery-status; boundary="b"',
        "report-type*=us-ascii''delivery-status; boundary*0=\"b\"",
    ).replace("--b--\n", "")
    report = parse_message(raw.encode())
    assert (report.kind, [r.status for r in report.recipients]) == ("hard", ["5.1.1"])


def test_a_huge_returned_attachment_or_line_does_not_hide_the_report() -> None:
    attachment = ("QUJD" * 19 + "\n") * 80_000
    raw = DSN.replace("--b--\n", f"--b\nContent-Type: application/pdf\n\n{attachment}--b--\n")
    assert parse_message(raw.encode()).kind == "hard"
    long_line = DSN.replace("Failed.", "Failed. " + "x" * 150_000)
    assert parse_message(long_line.encode()).kind == "hard"


NOT_RECIPIENTS = [
    # (notice, failed recipients found)
    ("a@x.example: 550 unknown\nContact our help desk at support@x.example", ["a@x.example"]),
    ("Please write to helpdesk@x.example.\nb@x.example: 550 unknown", ["b@x.example"]),
    ("The message from sender@ours.example to c@x.example failed: 550", ["c@x.example"]),
    ("Sender: <sender@ours.example>\nd@x.example: 550 no such user", ["d@x.example"]),
    ("e@x.example: 550 unknown\n> To: e@x.example\n> Cc: friend@x.example", ["e@x.example"]),
    (">>> RCPT TO:<f@x.example>\n<<< 550 no such user", ["f@x.example"]),
    ("g@x.example on 04/03/2025 09:12\n  <mx #5.1.1>", ["g@x.example"]),
    # Only a help desk is named: better it than nothing.
    ("Delivery failed. Contact support@x.example", ["support@x.example"]),
]


@pytest.mark.parametrize(("notice", "emails"), NOT_RECIPIENTS)
def test_senders_help_desks_and_quoted_headers_are_not_failed_recipients(
    notice: str, emails: list[str]
) -> None:
    assert [c.email for c in find_candidates(notice, (), "bounces")] == emails


def test_x_failed_recipients_folded_and_in_any_case_are_read() -> None:
    raw = (
        b"From: Mailer-Daemon@mx.example\nSubject: Mail delivery failed\n"
        b"X-Failed-Recipients: <A@Example.org>,\n\tb@example.org\n\n"
        b"Failed: 550 unrouteable address\n"
    )
    assert [r.email for r in parse_message(raw).recipients] == ["a@example.org", "b@example.org"]
