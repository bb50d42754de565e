"""ARF complaints (with redaction), and auto-replies told apart from bounces."""

from __future__ import annotations

from bounces.arf import is_redacted, parse_feedback_report
from bounces.parser import parse_message
from delivery.verp import make_token


def _arf(feedback_fields: str, original: str) -> bytes:
    return (
        "From: fbl@isp.example\nTo: fbl@shop.example\nSubject: report\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nA complaint.\n\n"
        f"--b\nContent-Type: message/feedback-report\n\n{feedback_fields}\n"
        f"--b\nContent-Type: message/rfc822\n\n{original}\n--b--\n"
    ).encode()


def test_original_rcpt_to_names_the_complainer() -> None:
    report = parse_feedback_report(
        "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\nOriginal-Rcpt-To: <A@isp.example>\n"
    )
    assert (report.feedback_type, report.recipients) == ("abuse", ["a@isp.example"])


def test_redacted_addresses_are_recognised() -> None:
    for address in ("xxxxxxx@isp.example", "redacted@isp.example", "j***@isp.example"):
        assert is_redacted(address), address
    assert not is_redacted("max@isp.example")


def test_a_redacted_complaint_is_matched_by_our_token_in_the_returned_message() -> None:
    token = make_token(321)
    raw = _arf(
        "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\n",
        f"To: xxxxxx@isp.example\nX-Postino-Ref: {token}\nX-Postino-Campaign: 4\n\nHi\n",
    )
    report = parse_message(raw)
    assert report.kind == "complaint"
    assert report.recipients == []
    assert (report.verp_delivery_id, report.campaign_id) == (321, 4)


def test_an_auth_failure_report_is_a_complaint_with_its_type() -> None:
    raw = _arf(
        "Feedback-Type: auth-failure\nUser-Agent: x/1\nVersion: 1\nAuth-Failure: dmarc\n"
        "Original-Rcpt-To: b@isp.example\n",
        "To: b@isp.example\n\nHi\n",
    )
    report = parse_message(raw)
    assert (report.kind, report.feedback_type) == ("complaint", "auth-failure")


def test_a_forged_token_is_not_trusted() -> None:
    raw = _arf(
        "Feedback-Type: abuse\nUser-Agent: x/1\nVersion: 1\n",
        "To: c@isp.example\nX-Postino-Ref: 141-aaaaaaaaaa\n\nHi\n",
    )
    assert parse_message(raw).verp_delivery_id is None


def _mail(headers: str, body: str = "Hello.") -> bytes:
    return f"From: p@corp.example\nTo: news@shop.example\n{headers}\n{body}\n".encode()


def test_rfc_3834_auto_replied_is_an_autoreply() -> None:
    raw = _mail("Subject: Re: hi\nAuto-Submitted: auto-replied\n")
    assert parse_message(raw).kind == "autoreply"


def test_vendor_headers_and_precedence_mark_autoreplies() -> None:
    for header in ("X-Autoreply: yes", "X-Autorespond: on", "Precedence: auto_reply"):
        assert parse_message(_mail(f"Subject: hi\n{header}\n")).kind == "autoreply", header


def test_out_of_office_subjects_in_several_languages_are_autoreplies() -> None:
    for subject in (
        "Out of Office: hi",
        "Abwesenheitsnotiz",
        "Fuori ufficio",
        "Automatic reply: x",
    ):
        assert parse_message(_mail(f"Subject: {subject}\n")).kind == "autoreply", subject


def test_auto_generated_alone_is_not_an_autoreply() -> None:
    assert parse_message(_mail("Subject: Your invoice\nAuto-Submitted: auto-generated\n")).kind == (
        "not_bounce"
    )


def test_a_dsn_is_never_an_autoreply_even_with_auto_submitted() -> None:
    raw = (
        b"From: MAILER-DAEMON@mx.example\nTo: news@shop.example\nSubject: Out of Office\n"
        b"Auto-Submitted: auto-replied\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        b"--b\nContent-Type: text/plain\n\nFailed.\n\n"
        b"--b\nContent-Type: message/delivery-status\n\n"
        b"Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@example.com\n"
        b"Action: failed\nStatus: 5.1.1\n\n--b--\n"
    )
    report = parse_message(raw)
    assert report.kind == "hard"
    assert report.reporting_mta == "mx.example"


def test_the_envelope_recipient_gives_the_delivery_id() -> None:
    raw = _mail("Subject: Undeliverable\n", "Delivery has failed: 550 5.1.1 user unknown")
    report = parse_message(raw, envelope_recipient=f"bounces+{make_token(99)}@bounce.example")
    assert report.verp_delivery_id == 99


def test_junk_never_raises() -> None:
    for raw in (b"", b"\x00\xff" * 100, b"Content-Type: multipart/report; boundary=x\n\n--x\n"):
        assert parse_message(raw).kind == "not_bounce"
