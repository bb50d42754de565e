# ruff: noqa: E501, RUF001
"""Third-author samples (``corpus/*/c3-*.eml``): the parser's known weak spots.

Generic DSN statuses next to specific words, reports nested in forwarded
messages, DSNs whose recipients had different fates, unusual encodings and
broken MIME, and addresses in a notice that are not the failed recipient.
Running this file rewrites only the ``c3-`` samples and their entries in
``expected.json``. The text is ours; the expectation is what the documented
rules say.
"""

from __future__ import annotations

import base64
from typing import Any

from corpus_files import CORPUS, Sample, write_samples

FROM = "letters@mail.postino.example.com"
_SAMPLES: list[Sample] = []


def r(email: str, kind: str, status: str | None) -> dict[str, Any]:
    return {"email": email, "kind": kind, "status": status}


def want(kind: str, *recipients: dict[str, Any], ft: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "recipients": list(recipients), "feedback_type": ft}


def put(path: str, data: str | bytes, expected: dict[str, Any]) -> None:
    folder, _, name = path.partition("/")
    raw = data.encode() if isinstance(data, str) else data
    _SAMPLES.append((f"{folder}/c3-{name}.eml", raw, expected))


def returned(to: str, *, cc: str = "") -> str:
    return (
        "Received: from out7.mail.postino.example.com (out7.mail.postino.example.com [192.0.2.71])\n"
        "\tby mx.parish.example (Postfix) with ESMTPS id 55A1B;\n"
        "\tTue, 4 Mar 2025 09:12:03 +0000\n"
        f'From: "Allotment News" <{FROM}>\n'
        f"To: {to}\n" + (f"Cc: {cc}\n" if cc else "") + "Subject: Seed swap on Saturday\n"
        "Message-ID: <seed.0304@mail.postino.example.com>\n"
        "Reply-To: committee@allotments.example\n"
        "Content-Type: text/plain; charset=utf-8\n"
    )


def block(email: str, action: str, status: str | None, diag: str | None = None) -> str:
    out = f"Final-Recipient: rfc822; {email}\nAction: {action}\n"
    if status:
        out += f"Status: {status}\n"
    if diag:
        out += f"Diagnostic-Code: smtp; {diag}\n"
    return out


def dsn(
    human: str,
    *blocks: str,
    rcpt: str | None = None,
    subject: str = "Delivery Status Notification (Failure)",
    frm: str = "Mail Delivery Subsystem <mailer-daemon@relay.parish.example>",
    boundary: str = "c3-dsn-7f2",
    closing: bool = True,
) -> str:
    to = rcpt or "nobody@parish.example"
    text = (
        f"Return-Path: <>\nFrom: {frm}\nTo: {FROM}\nSubject: {subject}\n"
        "Date: Tue, 4 Mar 2025 09:12:09 +0000\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=us-ascii\n\n{human}\n\n"
        f"--{boundary}\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; relay.parish.example\n\n" + "\n".join(blocks) + "\n"
        f"--{boundary}\nContent-Type: text/rfc822-headers\n\n{returned(to)}\n"
    )
    return text + (f"--{boundary}--\n" if closing else "")


def text_notice(body: str, *, subject: str, frm: str, extra: str = "", to: str = FROM) -> str:
    return (
        f"Return-Path: <>\nFrom: {frm}\nTo: {to}\nSubject: {subject}\n{extra}"
        "Date: Tue, 4 Mar 2025 09:12:09 +0000\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + body
    )


def wrap(
    outer_head: str,
    note: str,
    inner: str,
    *,
    boundary: str = "c3-wrap-19",
    ctype: str = "message/rfc822",
) -> str:
    return (
        outer_head.rstrip("\n") + "\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\n\n'
        f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{note}\n\n"
        f"--{boundary}\nContent-Type: {ctype}\nContent-Disposition: attachment\n\n{inner}\n"
        f"--{boundary}--\n"
    )


HUMAN = "This is an automatically generated Delivery Status Notification.\n\nDelivery to the following recipients failed."


def status_precision() -> None:
    cases = [
        # (name, status, diagnostic, kind, expected status)
        ("unknown_user", "5.0.0", "550 User unknown in local recipient table", "hard", "5.1.1"),
        (
            "no_such_mailbox",
            "5.0.0",
            "550 <ivy@parish.example>: no such mailbox here",
            "hard",
            "5.1.1",
        ),
        ("mailbox_full", "5.0.0", "552 Mailbox full, cannot accept more mail", "soft", "5.2.2"),
        (
            "quota_transient",
            "4.0.0",
            "452 Quota exceeded for this user, try later",
            "soft",
            "4.2.2",
        ),
        ("account_disabled", "5.0.0", "550 This account has been disabled", "hard", "5.2.1"),
        ("inactive_account", "5.0.0", "550 Inactive account, mail refused", "hard", "5.2.1"),
        (
            "host_not_found",
            "5.0.0",
            "Host or domain name not found. Name service error for name=parish.invalid type=MX: Host not found",
            "hard",
            "5.1.2",
        ),
        (
            "too_large",
            "5.0.0",
            "552 Message size exceeds fixed maximum message size",
            "soft",
            "5.3.4",
        ),
        ("spam", "5.0.0", "554 Message rejected as spam by content filter", "soft", "5.7.1"),
        ("greylisted", "4.0.0", "450 Greylisted, please try again in 5 minutes", "soft", "4.2.0"),
        (
            "greylisted_stated",
            "4.0.0",
            "451 4.7.1 Greylisting in action, please come back later",
            "soft",
            "4.7.1",
        ),
        (
            "reply_more_specific",
            "5.0.0",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found",
            "hard",
            "5.1.10",
        ),
        ("missing_status", None, "550 Recipient address rejected: User unknown", "hard", "5.1.1"),
        ("missing_status_quota", None, "452 Mailbox is full", "soft", "4.2.2"),
        ("specific_status_kept", "5.2.2", "552 user unknown or over quota", "soft", "5.2.2"),
    ]
    for name, status, diag, kind, expected in cases:
        email = f"{name.replace('_', '.')}@parish.example"
        put(
            f"postfix/generic_{name}",
            dsn(HUMAN, block(email, "failed", status, diag), rcpt=email),
            want(kind, r(email, kind, expected)),
        )
    put(
        "delay/generic_status_quota",
        dsn(
            "Delivery to the following recipient has been delayed.",
            block("reed@parish.example", "delayed", "4.0.0", "452 Mailbox full, will retry"),
            rcpt="reed@parish.example",
            subject="Delivery Status Notification (Delay)",
        ),
        want("delay", r("reed@parish.example", "delay", "4.2.2")),
    )
    put(
        "exim/generic_enhanced_in_text",
        text_notice(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  moss@parish.example\n    host mx.parish.example [198.51.100.3]\n"
            "    SMTP error from remote mail server after RCPT TO:<moss@parish.example>:\n"
            "    550 5.0.0 <moss@parish.example>: Recipient address rejected: User unknown\n",
            subject="Mail delivery failed: returning message to sender",
            frm="Mail Delivery System <Mailer-Daemon@relay.parish.example>",
            extra="X-Failed-Recipients: moss@parish.example\n",
        ),
        want("hard", r("moss@parish.example", "hard", "5.1.1")),
    )
    put(
        "qmail/generic_disabled_text",
        text_notice(
            "Hi. This is the qmail-send program at relay.parish.example.\n"
            "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            "<fern@parish.example>:\n198.51.100.3 does not like recipient.\n"
            "Remote host said: 550 5.0.0 Mailbox disabled for this recipient\nGiving up on 198.51.100.3.\n",
            subject="failure notice",
            frm="MAILER-DAEMON@relay.parish.example",
        ),
        want("hard", r("fern@parish.example", "hard", "5.2.1")),
    )


def nested() -> None:
    inner_dsn = dsn(
        HUMAN,
        block(
            "holly@parish.example",
            "failed",
            "5.1.1",
            "550 5.1.1 <holly@parish.example>: Recipient address rejected: User unknown",
        ),
        rcpt="holly@parish.example",
    )
    put(
        "misc/forwarded_dsn_attachment",
        wrap(
            f"From: Sam Reed <sam@allotments.example>\nTo: {FROM}\nSubject: Fwd: Delivery Status Notification (Failure)\n",
            "Sam here - this bounced when the list went out, can you remove her?",
            inner_dsn,
        ),
        want("hard", r("holly@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/forwarded_two_levels",
        wrap(
            f"From: Office <office@allotments.example>\nTo: {FROM}\nSubject: Fwd: Fwd: bounce\n",
            "Passing this on again.",
            wrap(
                "From: Sam Reed <sam@allotments.example>\nTo: office@allotments.example\nSubject: Fwd: bounce\n",
                "See attached.",
                inner_dsn,
                boundary="c3-inner-22",
            ),
        ),
        want("hard", r("holly@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/mailman_uncaught_dsn",
        wrap(
            "From: garden-bounces@lists.allotments.example\nTo: garden-owner@lists.allotments.example\n"
            "Subject: Uncaught bounce notification\nPrecedence: bulk\nX-Mailman-Version: 2.1.39\n",
            "The attached message was received as a bounce, but either the bounce\n"
            "format was not recognized, or no member addresses could be extracted\nfrom it.",
            dsn(
                "Your message could not be delivered.",
                block("basil@parish.example", "failed", "5.2.2", "552 5.2.2 Mailbox full"),
                rcpt="basil@parish.example",
            ),
        ),
        want("soft", r("basil@parish.example", "soft", "5.2.2")),
    )
    put(
        "misc/gateway_wrapped_text_bounce",
        wrap(
            f"From: Secure Mail Gateway <quarantine@gw.parish.example>\nTo: {FROM}\nSubject: Delivery failure notification\n",
            "The gateway could not deliver the message below. The original notice is attached.",
            text_notice(
                "This message was created automatically by mail delivery software.\n\n"
                "A message that you sent could not be delivered to one or more of its\n"
                "recipients. This is a permanent error. The following address(es) failed:\n\n"
                "  thyme@parish.example\n    550 5.1.1 No such user here\n",
                subject="Mail delivery failed: returning message to sender",
                frm="Mail Delivery System <Mailer-Daemon@mx.parish.example>",
                extra="X-Failed-Recipients: thyme@parish.example\n",
            ),
        ),
        want("hard", r("thyme@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/gateway_wrapped_dsn_report_outer_text",
        wrap(
            f"From: Mail Gateway <gateway@gw.parish.example>\nTo: {FROM}\nSubject: Delivery failure\n",
            "A delivery report was returned for your message. Details are in the attachment.",
            dsn(
                "Delivery has been delayed.",
                block("sage@parish.example", "delayed", "4.4.1", "Connection timed out"),
                rcpt="sage@parish.example",
                subject="Delayed Mail (still being retried)",
            ),
        ),
        want("delay", r("sage@parish.example", "delay", "4.4.1")),
    )
    arf = (
        "From: Feedback Loop <fbl@isp.example>\nTo: fbl-reports@allotments.example\nSubject: FW: Complaint\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary="arf-c3"\n\n'
        "--arf-c3\nContent-Type: text/plain\n\nThis is an email abuse report.\n\n"
        "--arf-c3\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: ISPFBL/2.1\nVersion: 1\n"
        "Original-Rcpt-To: <mint@isp.example>\nReporting-MTA: dns; fbl.isp.example\n\n"
        "--arf-c3\nContent-Type: message/rfc822\n\n"
        + returned("xxxxx@isp.example")
        + "\nHello\n\n--arf-c3--\n"
    )
    put(
        "arf/forwarded_as_attachment",
        wrap(
            f"From: Abuse Desk <abuse-desk@hosting.example>\nTo: {FROM}\nSubject: Fwd: Complaint about your mail\n",
            "We received the following complaint about mail from your server.",
            arf,
        ),
        want("complaint", r("mint@isp.example", "complaint", None), ft="abuse"),
    )
    put(
        "arf/forwarded_twice",
        wrap(
            f"From: Hosting Support <support@hosting.example>\nTo: {FROM}\nSubject: Fwd: Fwd: Complaint\n",
            "Forwarding.",
            wrap(
                "From: Abuse Desk <abuse-desk@hosting.example>\nTo: support@hosting.example\nSubject: Fwd: Complaint\n",
                "FYI",
                arf,
                boundary="c3-arf-in",
            ),
        ),
        want("complaint", r("mint@isp.example", "complaint", None), ft="abuse"),
    )
    put(
        "not_bounce/forwarded_newsletter",
        wrap(
            f"From: Sam Reed <sam@allotments.example>\nTo: {FROM}\nSubject: Fwd: Seed swap on Saturday\n",
            "Thought you would like this one.",
            returned("sam@allotments.example") + "\nSeeds, seeds, seeds.\n",
        ),
        want("not_bounce"),
    )
    put(
        "not_bounce/mailman_uncaught_read_receipt",
        wrap(
            "From: garden-bounces@lists.allotments.example\nTo: garden-owner@lists.allotments.example\n"
            "Subject: Uncaught bounce notification\nPrecedence: bulk\n",
            "The attached message was received as a bounce, but either the bounce\nformat was not recognized.",
            "From: Ivy <ivy@parish.example>\nTo: garden-bounces@lists.allotments.example\nSubject: Thanks\n\nThanks for the seeds!\n",
        ),
        want("not_bounce"),
    )


def multi() -> None:
    put(
        "postfix/multi_hard_delay_delivered",
        dsn(
            HUMAN,
            block("rowan@parish.example", "failed", "5.1.1", "550 5.1.1 User unknown"),
            block("alder@parish.example", "delayed", "4.4.1", "Connection timed out"),
            block("birch@parish.example", "delivered", "2.0.0", "250 2.0.0 Ok"),
        ),
        want(
            "hard",
            r("rowan@parish.example", "hard", "5.1.1"),
            r("alder@parish.example", "delay", "4.4.1"),
            r("birch@parish.example", "not_bounce", "2.0.0"),
        ),
    )
    put(
        "postfix/multi_soft_and_delay",
        dsn(
            HUMAN,
            block("alder@parish.example", "delayed", "4.4.1", "Connection timed out"),
            block("hazel@parish.example", "failed", "5.2.2", "552 5.2.2 Over quota"),
        ),
        want(
            "soft",
            r("alder@parish.example", "delay", "4.4.1"),
            r("hazel@parish.example", "soft", "5.2.2"),
        ),
    )
    put(
        "postfix/multi_delay_and_delivered",
        dsn(
            "Delivery to some recipients has been delayed.",
            block("birch@parish.example", "delivered", "2.0.0"),
            block("alder@parish.example", "delayed", "4.4.7", "Connection refused"),
            subject="Delivery Status Notification (Delay)",
        ),
        want(
            "delay",
            r("birch@parish.example", "not_bounce", "2.0.0"),
            r("alder@parish.example", "delay", "4.4.7"),
        ),
    )
    put(
        "postfix/multi_unseparated_blocks",
        dsn(
            HUMAN,
            block("rowan@parish.example", "failed", "5.1.1", "550 5.1.1 User unknown").rstrip("\n")
            + "\n"
            + block("hazel@parish.example", "failed", "4.2.2", "452 4.2.2 Mailbox full"),
        ),
        want(
            "hard",
            r("rowan@parish.example", "hard", "5.1.1"),
            r("hazel@parish.example", "soft", "4.2.2"),
        ),
    )
    put(
        "postfix/multi_all_delivered",
        dsn(
            "Your message was relayed to the following recipients.",
            block("birch@parish.example", "relayed", "2.0.0"),
            block("aspen@parish.example", "delivered", "2.0.0"),
            subject="Successful Mail Delivery Report",
        ),
        want(
            "not_bounce",
            r("birch@parish.example", "not_bounce", "2.0.0"),
            r("aspen@parish.example", "not_bounce", "2.0.0"),
        ),
    )
    put(
        "exim/multi_text_mixed",
        text_notice(
            "This message was created automatically by mail delivery software.\n\n"
            "A message that you sent could not be delivered to one or more of its\n"
            "recipients. This is a permanent error. The following address(es) failed:\n\n"
            "  rowan@parish.example\n    SMTP error from remote mail server after RCPT TO:<rowan@parish.example>:\n"
            "    550 5.1.1 <rowan@parish.example>: user unknown\n"
            "  hazel@parish.example\n    SMTP error from remote mail server after RCPT TO:<hazel@parish.example>:\n"
            "    552 5.2.2 <hazel@parish.example>: mailbox over quota\n",
            subject="Mail delivery failed: returning message to sender",
            frm="Mail Delivery System <Mailer-Daemon@relay.parish.example>",
            extra="X-Failed-Recipients: rowan@parish.example,\n hazel@parish.example\n",
        ),
        want(
            "hard",
            r("rowan@parish.example", "hard", "5.1.1"),
            r("hazel@parish.example", "soft", "5.2.2"),
        ),
    )


def encodings() -> None:
    de = "Die Nachricht konnte nicht zugestellt werden.\n\nEmpfänger: linde@parish.example\nGrund: 550 Benutzer unbekannt\n"
    head = (
        "Return-Path: <>\nFrom: MAILER-DAEMON@mx.parish.example\n"
        f"To: {FROM}\nSubject: Unzustellbar: Seed swap\nMIME-Version: 1.0\n"
    )
    put(
        "i18n/utf16_body_declared",
        (
            head
            + "Content-Type: text/plain; charset=utf-16\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(de.encode("utf-16")).decode()
        ),
        want("hard", r("linde@parish.example", "hard", "5.1.1")),
    )
    put(
        "i18n/utf16_bom_declared_utf8",
        (
            head
            + "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(b"\xff\xfe" + de.encode("utf-16-le")).decode()
        ),
        want("hard", r("linde@parish.example", "hard", "5.1.1")),
    )
    put(
        "i18n/utf16be_bom_undeclared",
        (
            head
            + "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(b"\xfe\xff" + de.encode("utf-16-be")).decode()
        ),
        want("hard", r("linde@parish.example", "hard", "5.1.1")),
    )
    # Raw 8-bit subjects: the only bounce evidence is the subject, so it must
    # be decoded with the right charset.
    zh_subject = "系统退信"
    zh_body = "您发送的邮件无法投递。\n收件人：lotus@parish.example\n原因：收件人地址不存在\n"
    for name, charset, subject, text in [
        ("gbk_raw_subject", "gbk", zh_subject, zh_body),
        ("gb2312_raw_subject_undeclared", None, zh_subject, zh_body),
        (
            "sjis_raw_subject",
            "shift_jis",
            "配信エラー",
            "メールを配信できませんでした。\n宛先：lotus@parish.example\nこのユーザーは存在しません。\n",
        ),
        (
            "koi8r_raw_subject",
            "koi8-r",
            "Недоставленное сообщение",
            "Ваше сообщение не доставлено.\nАдрес: lotus@parish.example\nПричина: пользователь не найден\n",
        ),
        (
            "koi8r_raw_subject_undeclared",
            None,
            "Недоставленное сообщение",
            "Ваше сообщение не доставлено.\nАдрес: lotus@parish.example\nПричина: пользователь не найден\n",
        ),
        (
            "cp1251_raw_subject",
            "windows-1251",
            "Недоставленное сообщение",
            "Ваше сообщение не доставлено.\nАдрес: lotus@parish.example\nПричина: пользователь не найден\n",
        ),
    ]:
        encoding = charset or ("gbk" if "gb" in name else "koi8-r")
        raw = (
            b"From: Mail Robot <robot@mail.parish.example>\nTo: "
            + FROM.encode()
            + b"\nSubject: "
            + subject.encode(encoding)
            + b"\nMIME-Version: 1.0\n"
            + (
                f"Content-Type: text/plain; charset={charset}\n".encode()
                if charset
                else b"Content-Type: text/plain\n"
            )
            + b"Content-Transfer-Encoding: 8bit\n\n"
            + text.encode(encoding)
        )
        put(f"i18n/{name}", raw, want("hard", r("lotus@parish.example", "hard", "5.1.1")))
    rfc2231 = dsn(
        HUMAN,
        block("iris@parish.example", "failed", "5.1.1", "550 5.1.1 unknown"),
        rcpt="iris@parish.example",
    ).replace(
        'Content-Type: multipart/report; report-type=delivery-status; boundary="c3-dsn-7f2"',
        'Content-Type: multipart/report; report-type*=us-ascii\'\'delivery-status;\n boundary*0="c3-dsn"; boundary*1="-7f2"',
    )
    put("misc/rfc2231_parameters", rfc2231, want("hard", r("iris@parish.example", "hard", "5.1.1")))
    put(
        "misc/missing_final_boundary",
        dsn(
            HUMAN,
            block("iris@parish.example", "failed", "5.1.1", "550 5.1.1 unknown"),
            rcpt="iris@parish.example",
            closing=False,
        ),
        want("hard", r("iris@parish.example", "hard", "5.1.1")),
    )
    dup = dsn(
        HUMAN,
        block("iris@parish.example", "failed", "5.2.1", "550 5.2.1 account disabled"),
        rcpt="iris@parish.example",
    )
    dup = dup.replace("Subject: Delivery", "Subject: Returned mail\nSubject: Delivery", 1).replace(
        "From: Mail Delivery",
        "From: Mail Delivery Subsystem <mailer-daemon@relay.parish.example>\nFrom: Mail Delivery",
        1,
    )
    put("misc/duplicate_headers", dup, want("hard", r("iris@parish.example", "hard", "5.2.1")))
    long_line = "x" * 150_000
    put(
        "misc/absurdly_long_line",
        dsn(
            HUMAN + "\n" + long_line,
            block("iris@parish.example", "failed", "5.1.1", "550 5.1.1 unknown " + "y" * 20_000),
            rcpt="iris@parish.example",
        ),
        want("hard", r("iris@parish.example", "hard", "5.1.1")),
    )
    # A 5 MB returned attachment is checked in test_hardening_c3.py, built in
    # memory: five megabytes of sample data do not belong in the repository.


def recipients() -> None:
    exim = (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
    )
    put(
        "exim/x_failed_recipients_folded",
        text_notice(
            exim
            + "  ash@parish.example\n    550 Unrouteable address\n  elm@parish.example\n    550 Unrouteable address\n",
            subject="Mail delivery failed",
            frm="Mail Delivery System <Mailer-Daemon@relay.parish.example>",
            extra="X-Failed-Recipients: ash@parish.example,\n\telm@parish.example\n",
        ),
        want(
            "hard",
            r("ash@parish.example", "hard", "5.1.2"),
            r("elm@parish.example", "hard", "5.1.2"),
        ),
    )
    put(
        "exim/x_failed_recipients_without_text",
        text_notice(
            "Your message could not be delivered. Please contact support@relay.parish.example if this keeps happening.\n",
            subject="Mail delivery failed",
            frm="Mail Delivery System <Mailer-Daemon@relay.parish.example>",
            extra="X-Failed-Recipients: <Pine@Parish.example>\n",
        ),
        want("soft", r("pine@parish.example", "soft", None)),
    )
    put(
        "postfix/angle_colon_lines",
        text_notice(
            "This is the mail system at host relay.parish.example.\n\n"
            "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"
            "For further assistance, please send mail to postmaster@relay.parish.example\n\n"
            "<cedar@parish.example>: host mx.parish.example[198.51.100.3] said: 550 5.1.1\n"
            "    <cedar@parish.example>: Recipient address rejected: User unknown (in reply to RCPT TO command)\n\n"
            "<larch@parish.example>: host mx.parish.example[198.51.100.3] said: 452 4.2.2\n"
            "    Mailbox full (in reply to RCPT TO command)\n",
            subject="Undelivered Mail Returned to Sender",
            frm="MAILER-DAEMON@relay.parish.example (Mail Delivery System)",
        ),
        want(
            "hard",
            r("cedar@parish.example", "hard", "5.1.1"),
            r("larch@parish.example", "soft", "4.2.2"),
        ),
    )
    put(
        "sendmail/rcpt_to_transcript",
        text_notice(
            "The original message was received at Tue, 4 Mar 2025 09:12:03 GMT\nfrom out7.mail.postino.example.com [192.0.2.71]\n\n"
            "   ----- The following addresses had permanent fatal errors -----\n(reason: 550 5.1.1 User unknown)\n\n"
            "   ----- Transcript of session follows -----\n"
            f"... while talking to mx.parish.example.:\n>>> MAIL From:<{FROM}> SIZE=2311\n<<< 250 2.1.0 Sender ok\n"
            ">>> RCPT To:<Juniper@parish.example>\n<<< 550 5.1.1 User unknown\n550 5.1.1 ... User unknown\n",
            subject="Returned mail: see transcript for details",
            frm="Mail Delivery Subsystem <MAILER-DAEMON@relay.parish.example>",
            to="<bounces@postino.example.com>",
        ),
        want("hard", r("juniper@parish.example", "hard", "5.1.1")),
    )
    put(
        "sendmail/rcpt_to_lowercase_no_space",
        text_notice(
            "Delivery failed for the following recipient.\n\n"
            f">>> mail from:<{FROM}>\n<<< 250 ok\n>>> rcpt to:<yew@parish.example>\n<<< 550 no such user\n",
            subject="Returned mail: User unknown",
            frm="MAILER-DAEMON@relay.parish.example",
            to="bounces@postino.example.com",
        ),
        want("hard", r("yew@parish.example", "hard", "5.1.1")),
    )
    put(
        "exchange/address_on_date",
        text_notice(
            "Your message did not reach some or all of the intended recipients.\n\n"
            "      Subject:\tSeed swap on Saturday\n      Sent:\t04/03/2025 09:12\n\n"
            "The following recipient(s) cannot be reached:\n\n"
            "      poplar@parish.example on 04/03/2025 09:12\n"
            "            The e-mail account does not exist at the organization this message was sent to.\n"
            "            <mx.parish.example #5.1.1 smtp;550 5.1.1 RESOLVER.ADR.RecipNotFound; not found>\n\n"
            "      willow@parish.example on 04/03/2025 09:12\n"
            "            The recipient's mailbox is full and can't accept messages now.\n"
            "            <mx.parish.example #5.2.2 smtp;552 5.2.2 STOREDRV.Deliver; mailbox full>\n",
            subject="Undeliverable: Seed swap on Saturday",
            frm="System Administrator <postmaster@parish.example>",
        ),
        want(
            "hard",
            r("poplar@parish.example", "hard", "5.1.1"),
            r("willow@parish.example", "soft", "5.2.2"),
        ),
    )
    put(
        "misc/rfc822_any_case_and_spacing",
        dsn(
            HUMAN,
            "Final-Recipient: RFC822;<Maple@Parish.example>\nAction: failed\nStatus: 5.1.1\n",
            "final-recipient:rfc822 ;   spruce@parish.example\naction: Failed\nstatus: 5.2.1\n",
            "Original-Recipient: Rfc822; <Cherry@parish.example>\nFinal-Recipient: rfc822;cherry@mail.parish.example\nAction: failed\nStatus: 5.1.1\n",
        ),
        want(
            "hard",
            r("maple@parish.example", "hard", "5.1.1"),
            r("spruce@parish.example", "hard", "5.2.1"),
            r("cherry@mail.parish.example", "hard", "5.1.1"),
        ),
    )
    put(
        "misc/inline_dsn_fields_in_text",
        text_notice(
            "Delivery failed.\n\nReporting-MTA: dns; relay.parish.example\n\n"
            "Final-Recipient: RFC822; <Plum@parish.example>\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 550 mailbox unavailable: user does not exist\n",
            subject="Undeliverable",
            frm="postmaster@relay.parish.example",
        ),
        want("hard", r("plum@parish.example", "hard", "5.1.1")),
    )
    put(
        "arf/original_rcpt_to_only",
        "From: complaints@isp.example\nTo: fbl@postino.example.com\nSubject: Abuse report\n"
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary="f3"\n\n'
        "--f3\nContent-Type: text/plain\n\nA user marked your message as spam.\n\n"
        "--f3\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: Complainer/1.0\nVersion: 1\n"
        "Original-Mail-From: <bounces@postino.example.com>\nOriginal-Rcpt-To: Quince@ISP.example\n\n"
        "--f3\nContent-Type: text/rfc822-headers\n\n"
        + returned("redacted@isp.example")
        + "\n--f3--\n",
        want("complaint", r("quince@isp.example", "complaint", None), ft="abuse"),
    )
    put(
        "misc/helpdesk_addresses_in_notice",
        text_notice(
            "Your message could not be delivered to the following recipient:\n\n"
            "    olive@parish.example\n    Reason: 550 5.1.1 mailbox does not exist\n\n"
            "If you need help, contact our help desk at support@parish.example or\nservicedesk@parish.example, or call 0800 000 000.\n",
            subject="Undeliverable message",
            frm="Mail System <mailsystem@parish.example>",
        ),
        want("hard", r("olive@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/our_sender_named_in_notice",
        text_notice(
            f"The message from {FROM} to walnut@parish.example could not be delivered.\n"
            f"Sender: <{FROM}>\nReason: 550 5.1.1 user unknown\n",
            subject="Undeliverable message",
            frm="MAILER-DAEMON@relay.parish.example",
            to="bounces@postino.example.com",
        ),
        want("hard", r("walnut@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/quoted_headers_with_cc",
        text_notice(
            "Delivery to the following recipient failed permanently:\n\n     chestnut@parish.example\n\n"
            "Technical details of permanent failure:\n550 5.1.1 The email account that you tried to reach does not exist.\n\n"
            "----- Original message -----\n\n"
            + returned(
                "chestnut@parish.example", cc="friends@allotments.example, beech@parish.example"
            )
            + "\nSee you there.\n",
            subject="Delivery Status Notification (Failure)",
            frm="Mail Delivery Subsystem <mailer-daemon@relay.parish.example>",
        ),
        want("hard", r("chestnut@parish.example", "hard", "5.1.1")),
    )
    put(
        "misc/quoted_headers_with_angle_prefix",
        text_notice(
            "Sorry, we were unable to deliver your message to the following address.\n\n"
            "<laurel@parish.example>:\n550: Recipient address rejected: user does not exist\n\n"
            "> From: Allotment News <" + FROM + ">\n> To: laurel@parish.example\n"
            "> Cc: beech@parish.example\n> Reply-To: committee@allotments.example\n> Subject: Seed swap\n",
            subject="Failure Notice",
            frm="MAILER-DAEMON@relay.parish.example",
        ),
        want("hard", r("laurel@parish.example", "hard", "5.1.1")),
    )


def write() -> None:
    print(f"wrote {write_samples(samples(), prefix='c3-')} c3 samples to {CORPUS}")


def samples() -> list[Sample]:
    if not _SAMPLES:
        for make in (status_precision, nested, multi, encodings, recipients):
            make()
    return list(_SAMPLES)


if __name__ == "__main__":
    write()
