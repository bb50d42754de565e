# ruff: noqa: E501, RUF001
"""Second-author samples (``corpus/*/b2-*.eml``): bounces, complaints and
look-alikes written independently of the parser, to find its blind spots.

``make_corpus.py`` writes these together with the first set; running this file
alone rewrites only the ``b2-`` samples and their entries in ``expected.json``.
Each message is our own text after what the MTA or provider sends; the
expectation is what the documented rules say, not what the parser printed.
"""

from __future__ import annotations

import base64
import json
import quopri
from typing import Any

from corpus_files import CORPUS, Sample, verp_token, write_samples


def ew(text: str, charset: str, encoding: str = "B") -> str:
    """An RFC 2047 encoded word, as the mailer would write it."""
    data = text.encode(charset)
    if encoding == "B":
        return f"=?{charset}?B?{base64.b64encode(data).decode()}?="
    return f"=?{charset}?Q?{quopri.encodestring(data, header=True).decode()}?="


FROM = "letters@mail.postino.example.com"
_SAMPLES: list[Sample] = []


def verp(delivery_id: int) -> str:
    return f"bounces+{verp_token(delivery_id)}@postino.example.com"


def r(email: str | None, kind: str, status: str | None = None) -> dict[str, Any]:
    return {"email": email, "kind": kind, "status": status}


def want(
    kind: str,
    recipients: list[dict[str, Any]] | None = None,
    *,
    ft: str | None = None,
    vid: int | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {"kind": kind, "recipients": recipients or [], "feedback_type": ft}
    if vid is not None:
        result["verp_delivery_id"] = vid
    return result


def put(
    path: str, text: str, expected: dict[str, Any], *, eol: str = "\n", charset: str = "utf-8"
) -> None:
    folder, _, name = path.partition("/")
    data = text.encode(charset).replace(b"\n", eol.encode())
    _SAMPLES.append((f"{folder}/b2-{name}.eml", data, expected))


def body(text: str, charset: str = "utf-8", cte: str = "8bit") -> tuple[str, str]:
    """(headers, encoded body) of a text part; 8bit bodies stay text."""
    head = f"Content-Type: text/plain; charset={charset}\nContent-Transfer-Encoding: {cte}\n"
    raw = text.encode(charset)
    if cte == "base64":
        return head, base64.encodebytes(raw).decode()
    if cte == "quoted-printable":
        return head, quopri.encodestring(raw).decode("ascii")
    return head, text


def orig(
    to: str,
    did: int | None = None,
    *,
    subject: str = "Twelve recipes for a slow Sunday",
    with_body: bool = True,
) -> str:
    lines = []
    if did is not None:
        lines.append(f"Return-Path: <{verp(did)}>")
    lines += [
        "Received: from out3.mail.postino.example.com (out3.mail.postino.example.com [192.0.2.44])",
        "        by mx1.recipient.example (Postfix) with ESMTPS id 7D2E1C0A9;",
        "        Wed, 12 Feb 2025 18:40:11 +0100 (CET)",
        "DKIM-Signature: v=1; a=rsa-sha256; d=mail.postino.example.com; s=p1; h=from:to:subject; bh=AbC=; b=XyZ=",
        f'From: "Kitchen Letters" <{FROM}>',
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Wed, 12 Feb 2025 18:40:09 +0100",
        f"Message-ID: <k{did or 0}.20250212@mail.postino.example.com>",
        "MIME-Version: 1.0",
        "List-Unsubscribe: <https://postino.example.com/unsub/q8Zk>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Content-Type: text/plain; charset=utf-8",
    ]
    if did is not None:
        lines.append(f"X-Postino-Ref: {verp_token(did)}")
    text = "\n".join(lines) + "\n"
    if with_body:
        text += "\nThis week: braised leeks, a lemon tart and bread that forgives you.\n"
    return text


def report(
    *,
    human: str,
    fields: str,
    returned: str | None,
    frm: str = "Mail Delivery System <MAILER-DAEMON@mx.recipient.example>",
    subject: str = "Undelivered Mail Returned to Sender",
    to: str = FROM,
    extra: str = "",
    headers_only: bool = True,
    human_charset: str = "us-ascii",
    human_cte: str = "7bit",
    report_type: str = "delivery-status",
    status_type: str = "message/delivery-status",
    boundary: str = "=_nd7Q2_",
    auto_submitted: bool = True,
) -> str:
    head, encoded = body(human, human_charset, human_cte)
    text = (
        "Return-Path: <>\n"
        "Date: Wed, 12 Feb 2025 18:40:14 +0100\n"
        f"From: {frm}\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        + ("Auto-Submitted: auto-generated\n" if auto_submitted else "")
        + extra
        + "MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type={report_type};\n\tboundary="{boundary}"\n\n'
        f"--{boundary}\n{head}\n{encoded}\n"
        f"--{boundary}\nContent-Type: {status_type}\n\n{fields}\n"
    )
    if returned is not None:
        kind = "text/rfc822-headers" if headers_only else "message/rfc822"
        text += f"--{boundary}\nContent-Type: {kind}\n\n{returned}\n"
    return text + f"--{boundary}--\n"


def fields(mta: str, *blocks: str, extra: str = "") -> str:
    return (
        f"Reporting-MTA: dns; {mta}\n{extra}Arrival-Date: Wed, 12 Feb 2025 18:40:11 +0100\n\n"
        + "\n\n".join(b.strip("\n") for b in blocks)
        + "\n"
    )


def rcpt_block(
    email: str,
    action: str,
    status: str,
    diag: str | None = None,
    *,
    remote: str | None = None,
    orig_rcpt: str | None = None,
    diag_type: str = "smtp",
) -> str:
    out = ""
    if orig_rcpt:
        out += f"Original-Recipient: rfc822;{orig_rcpt}\n"
    out += f"Final-Recipient: rfc822; {email}\nAction: {action}\nStatus: {status}\n"
    if remote:
        out += f"Remote-MTA: dns; {remote}\n"
    if diag:
        out += f"Diagnostic-Code: {diag_type}; {diag}\n"
    return out


def plain(headers: str, text: str, *, charset: str = "utf-8", cte: str = "8bit") -> str:
    head, encoded = body(text, charset, cte)
    return headers.rstrip("\n") + "\nMIME-Version: 1.0\n" + head + "\n" + encoded


POSTFIX = """This is the mail system at host {host}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

{lines}
"""


def postfix() -> None:
    host = "smtp-out2.hosting.example"

    def pf(
        name: str,
        email: str,
        line: str,
        status: str,
        diag: str,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        eol: str = "\n",
        action: str = "failed",
        subject: str = "Undelivered Mail Returned to Sender",
        human: str | None = None,
        diag_type: str = "smtp",
    ) -> None:
        put(
            f"postfix/{name}",
            report(
                human=human or POSTFIX.format(host=host, lines=line),
                fields=fields(
                    host,
                    rcpt_block(
                        email,
                        action,
                        status,
                        diag,
                        remote="mx.recipient.example",
                        diag_type=diag_type,
                    ),
                    extra="X-Postfix-Queue-ID: 4Yt8Kq1Zz3z9vQ\nX-Postfix-Sender: rfc822; "
                    + (verp(did) if did else FROM)
                    + "\n",
                ),
                returned=orig(email, did),
                frm=f"MAILER-DAEMON@{host} (Mail Delivery System)",
                subject=subject,
            ),
            expected,
            eol=eol,
        )

    pf(
        "virtual_table_unknown",
        "odile@recipient.example",
        "<odile@recipient.example>: host mx.recipient.example[203.0.113.25] said: 550\n    5.1.1 <odile@recipient.example>: Recipient address rejected: User unknown in\n    virtual mailbox table (in reply to RCPT TO command)",
        "5.1.1",
        "550 5.1.1 <odile@recipient.example>: Recipient address rejected: User\n    unknown in virtual mailbox table",
        want("hard", [r("odile@recipient.example", "hard", "5.1.1")], vid=21001),
        did=21001,
        eol="\r\n",
    )
    pf(
        "name_service_error",
        "pavel@gone-away.example",
        "<pavel@gone-away.example>: Host or domain name not found. Name service error\n    for name=gone-away.example type=MX: Host not found, try again",
        "5.4.4",
        "Host or domain name not found. Name service error for\n    name=gone-away.example type=A: Host not found",
        want("hard", [r("pavel@gone-away.example", "hard", "5.4.4")], vid=21002),
        did=21002,
        diag_type="X-Postfix",
    )
    pf(
        "connect_timeout_delayed",
        "quint@slowhost.example",
        "<quint@slowhost.example>: connect to mx.slowhost.example[203.0.113.61]:25:\n    Connection timed out",
        "4.4.1",
        "connect to mx.slowhost.example[203.0.113.61]:25: Connection timed out",
        want("delay", [r("quint@slowhost.example", "delay", "4.4.1")], vid=21003),
        did=21003,
        action="delayed",
        subject="Delayed Mail (still being retried)",
        human="This is the mail system at host smtp-out2.hosting.example.\n\n####################################################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################\n\nYour message could not be delivered for more than 3 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n<quint@slowhost.example>: connect to mx.slowhost.example[203.0.113.61]:25:\n    Connection timed out\n",
        diag_type="X-Postfix",
    )
    pf(
        "connect_timeout_final",
        "rhea@slowhost.example",
        "<rhea@slowhost.example>: connect to mx.slowhost.example[203.0.113.61]:25:\n    Connection timed out",
        "4.4.1",
        "connect to mx.slowhost.example[203.0.113.61]:25: Connection timed out",
        want("soft", [r("rhea@slowhost.example", "soft", "4.4.1")]),
        diag_type="X-Postfix",
    )
    pf(
        "o365_dbeb",
        "sami@contoso-mail.example",
        "<sami@contoso-mail.example>: host\n    contosomail-example.mail.protection.outlook.com[52.101.0.9] said: 550 5.4.1\n    Recipient address rejected: Access denied. AS(201806281)\n    [BN3PEPF0000B36F.namprd21.prod.outlook.com] (in reply to RCPT TO command)",
        "5.4.1",
        "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)\n    [BN3PEPF0000B36F.namprd21.prod.outlook.com]",
        want("hard", [r("sami@contoso-mail.example", "hard", "5.4.1")], vid=21005),
        did=21005,
    )
    pf(
        "spamhaus_zen",
        "tara@recipient.example",
        "<tara@recipient.example>: host mx.recipient.example[203.0.113.25] said: 554\n    5.7.1 Service unavailable; Client host [192.0.2.44] blocked using\n    zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.44 (in reply to\n    RCPT TO command)",
        "5.7.1",
        "554 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using\n    zen.spamhaus.org; https://www.spamhaus.org/query/ip/192.0.2.44",
        want("soft", [r("tara@recipient.example", "soft", "5.7.1")]),
        eol="\r\n",
    )
    pf(
        "too_many_hops",
        "ugo@loopy.example",
        "<ugo@loopy.example>: host mx.loopy.example[203.0.113.70] said: 554 5.4.6 Too\n    many hops (in reply to end of DATA command)",
        "5.4.6",
        "554 5.4.6 Too many hops",
        want("soft", [r("ugo@loopy.example", "soft", "5.4.6")], vid=21007),
        did=21007,
    )
    pf(
        "spf_reject",
        "vera@strict.example",
        "<vera@strict.example>: host mx.strict.example[203.0.113.71] said: 550 5.7.23\n    The message was rejected because of Sender Policy Framework violation (in\n    reply to end of DATA command)",
        "5.7.23",
        "550 5.7.23 The message was rejected because of Sender Policy Framework\n    violation",
        want("soft", [r("vera@strict.example", "soft", "5.7.23")]),
    )
    pf(
        "user_moved_551",
        "wim@oldco.example",
        "<wim@oldco.example>: host mx.oldco.example[203.0.113.72] said: 551 5.1.6 User\n    has moved; please try <wim@newco.example> (in reply to RCPT TO command)",
        "5.1.6",
        "551 5.1.6 User has moved; please try <wim@newco.example>",
        want("hard", [r("wim@oldco.example", "hard", "5.1.6")], vid=21009),
        did=21009,
    )
    pf(
        "552_storage_allocation",
        "xavi@gmx-like.example",
        "<xavi@gmx-like.example>: host mx00.gmx-like.example[203.0.113.73] said: 552\n    Requested mail action aborted: exceeded storage allocation (in reply to RCPT\n    TO command)",
        "5.0.0",
        "552 Requested mail action aborted: exceeded storage allocation",
        want("soft", [r("xavi@gmx-like.example", "soft", "5.2.2")]),
    )
    pf(
        "lmtp_over_quota_zimbra",
        "yara@zimbra-site.example",
        "<yara@zimbra-site.example>: host zimbra.zimbra-site.example[10.0.0.7] said:\n    552 5.2.2 yara@zimbra-site.example Over quota (in reply to end of DATA\n    command)",
        "5.2.2",
        "552 5.2.2 yara@zimbra-site.example Over quota",
        want("soft", [r("yara@zimbra-site.example", "soft", "5.2.2")], vid=21011),
        did=21011,
        diag_type="lmtp",
    )
    pf(
        "status_5_0_0_disabled_words",
        "zeno@recipient.example",
        "<zeno@recipient.example>: host mx.recipient.example[203.0.113.25] said: 550\n    This mailbox has been disabled (in reply to RCPT TO command)",
        "5.0.0",
        "550 This mailbox has been disabled",
        want("hard", [r("zeno@recipient.example", "hard", "5.2.1")]),
    )
    # Three recipients, three outcomes, one report.
    host3 = "relay.postino-customer.example"
    put(
        "postfix/three_recipients_mixed",
        report(
            human=POSTFIX.format(
                host=host3,
                lines="<ana@one.example>: host mx.one.example[203.0.113.1] said: 550 5.1.1\n    <ana@one.example>: Recipient address rejected: User unknown (in reply to\n    RCPT TO command)\n\n<ben@two.example>: host mx.two.example[203.0.113.2] said: 552 5.2.2 Mailbox\n    full (in reply to RCPT TO command)\n\n<cai@three.example>: host mx.three.example[203.0.113.3] said: 550 5.7.1\n    Message rejected as spam by Content Filtering (in reply to end of DATA\n    command)",
            ),
            fields=fields(
                host3,
                rcpt_block(
                    "ana@one.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 <ana@one.example>: Recipient address rejected: User unknown",
                    remote="mx.one.example",
                ),
                rcpt_block(
                    "ben@two.example",
                    "failed",
                    "5.2.2",
                    "552 5.2.2 Mailbox full",
                    remote="mx.two.example",
                ),
                rcpt_block(
                    "cai@three.example",
                    "failed",
                    "5.7.1",
                    "550 5.7.1 Message rejected as spam by Content Filtering",
                    remote="mx.three.example",
                ),
            ),
            returned=orig("ana@one.example, ben@two.example, cai@three.example"),
        ),
        want(
            "hard",
            [
                r("ana@one.example", "hard", "5.1.1"),
                r("ben@two.example", "soft", "5.2.2"),
                r("cai@three.example", "soft", "5.7.1"),
            ],
        ),
        eol="\r\n",
    )
    # The human part says "mailbox full", the machine part says unknown user:
    # the DSN is the evidence.
    put(
        "postfix/human_machine_disagree",
        report(
            human="Your message could not be delivered: the recipient's mailbox is full.\n",
            fields=fields(
                host,
                rcpt_block(
                    "abe@recipient.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 <abe@recipient.example>... User unknown",
                ),
            ),
            returned=orig("abe@recipient.example", 21014),
        ),
        want("hard", [r("abe@recipient.example", "hard", "5.1.1")], vid=21014),
    )
    # A DSN with no diagnostic and a bare 5.0.0: the human part decides.
    put(
        "postfix/bare_status_human_full",
        report(
            human="Delivery to the following recipient failed permanently:\n\n    bea@recipient.example\n\nThe recipient's mailbox is full and can't accept messages now.\n",
            fields=fields(host, rcpt_block("bea@recipient.example", "failed", "5.0.0")),
            returned=orig("bea@recipient.example"),
        ),
        want("soft", [r("bea@recipient.example", "soft", "5.2.2")]),
    )


EXIM_HEAD = "This message was created automatically by mail delivery software.\n\n"


def exim() -> None:
    def ex(
        name: str,
        failed: str,
        text: str,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        subject: str = "Mail delivery failed: returning message to sender",
        eol: str = "\n",
        to_verp: bool = False,
    ) -> None:
        first = failed.split(",")[0].strip()
        headers = (
            "Return-path: <>\n"
            "Envelope-to: " + (verp(did) if (did and to_verp) else FROM) + "\n"
            "Received: from mail by box123.cpanel-host.example with local (Exim 4.96.2)\n"
            "\tid 1tiFWx-00FqQ3-2N; Wed, 12 Feb 2025 18:40:14 +0100\n"
            "From: Mail Delivery System <Mailer-Daemon@box123.cpanel-host.example>\n"
            f"To: {verp(did) if (did and to_verp) else FROM}\n"
            f"Subject: {subject}\n"
            f"X-Failed-Recipients: {failed}\n"
            "Auto-Submitted: auto-replied\n"
            "Date: Wed, 12 Feb 2025 18:40:14 +0100\n"
        )
        put(
            f"exim/{name}",
            plain(
                headers,
                EXIM_HEAD
                + text
                + "\n------ This is a copy of the message, including all the headers. ------\n\n"
                + orig(first, did if not to_verp else None),
                charset="us-ascii",
                cte="7bit",
            ),
            expected,
            eol=eol,
        )

    ex(
        "old_rcpt_550",
        "carl@recipient.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  carl@recipient.example\n    SMTP error from remote mail server after RCPT TO:<carl@recipient.example>:\n    host mx.recipient.example [203.0.113.25]: 550 5.1.1 <carl@recipient.example>:\n    Recipient address rejected: User unknown in local recipient table\n",
        want("hard", [r("carl@recipient.example", "hard", "5.1.1")], vid=22001),
        did=22001,
    )
    ex(
        "new_mailbox_unavailable",
        "dana@recipient.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  dana@recipient.example\n    host mx.recipient.example [203.0.113.25]\n    SMTP error from remote mail server after RCPT TO:<dana@recipient.example>:\n    550 Requested action not taken: mailbox unavailable\n",
        want("hard", [r("dana@recipient.example", "hard", "5.1.1")], vid=22002),
        did=22002,
        to_verp=True,
        eol="\r\n",
    )
    ex(
        "retry_time_not_reached",
        "egon@down.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  egon@down.example\n    all hosts for 'down.example' have been failing for a long time (and retry time not reached)\n",
        want("soft", [r("egon@down.example", "soft", "4.4.7")]),
    )
    ex(
        "mx_nonexistent",
        "fay@parked.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  fay@parked.example\n    all relevant MX records point to non-existent hosts\n",
        want("hard", [r("fay@parked.example", "hard", "5.1.2")], vid=22004),
        did=22004,
    )
    ex(
        "two_failed_unrouteable_and_full",
        "gus@nowhere.example, hal@recipient.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  gus@nowhere.example\n    Unrouteable address\n  hal@recipient.example\n    SMTP error from remote mail server after RCPT TO:<hal@recipient.example>:\n    host mx.recipient.example [203.0.113.25]: 452 4.2.2 <hal@recipient.example>: Mailbox is full\n",
        want(
            "hard",
            [
                r("gus@nowhere.example", "hard", "5.1.2"),
                r("hal@recipient.example", "soft", "4.2.2"),
            ],
        ),
    )
    ex(
        "cpanel_quota",
        "ida@cpanel-host.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  ida@cpanel-host.example\n    Mailbox quota exceeded\n",
        want("soft", [r("ida@cpanel-host.example", "soft", "5.2.2")], vid=22006),
        did=22006,
    )
    ex(
        "spamcop_after_mail_from",
        "jan@recipient.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  jan@recipient.example\n    host mx.recipient.example [203.0.113.25]\n    SMTP error from remote mail server after MAIL FROM:<letters@mail.postino.example.com> SIZE=4210:\n    554 5.7.1 Service unavailable; Client host [192.0.2.44] blocked using bl.spamcop.net\n",
        want("soft", [r("jan@recipient.example", "soft", "5.7.1")]),
    )
    ex(
        "suspected_loop",
        "kai@recipient.example",
        'A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  kai@recipient.example\n    Too many "Received" headers - suspected mail loop\n',
        want("soft", [r("kai@recipient.example", "soft", "5.4.6")]),
    )
    ex(
        "delay_24h",
        "lou@slow.example",
        "A message that you sent has not yet been delivered to one or more of its\nrecipients after more than 24 hours on the queue on box123.cpanel-host.example.\n\nThe message identifier is:     1tiFWx-00FqQ3-2N\nThe subject of the message is: Twelve recipes for a slow Sunday\nThe date of the message is:    Wed, 12 Feb 2025 18:40:09 +0100\n\nThe address to which the message has not yet been delivered is:\n\n  lou@slow.example\n    host mx.slow.example [203.0.113.80]: Connection timed out\n    Delay reason: SMTP error from remote mail server after initial connection\n\nNo action is required on your part. Delivery attempts will continue for\nsome time, and this warning may be repeated at intervals if the message\nremains undelivered. Eventually the mail delivery software will give up,\nand when that happens, the message will be returned to you.\n",
        want("delay", [r("lou@slow.example", "delay", "4.4.1")], vid=22009),
        did=22009,
        subject="Warning: message 1tiFWx-00FqQ3-2N delayed 24 hours",
    )
    ex(
        "outlook_s2017",
        "mo_77@hotmail.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  mo_77@hotmail.example\n    host hotmail-example.olc.protection.outlook.com [52.101.68.0]\n    SMTP error from remote mail server after RCPT TO:<mo_77@hotmail.example>:\n    550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM4PEPF00027A5F.eurprd04.prod.outlook.com 2025-02-12T17:40:14.291Z 08DD4B1]\n",
        want("hard", [r("mo_77@hotmail.example", "hard", "5.5.0")]),
    )
    ex(
        "mimecast_admin_prohibition",
        "nia@guarded.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  nia@guarded.example\n    host eu-smtp-inbound-1.mimecast.example [203.0.113.90]\n    SMTP error from remote mail server after end of data:\n    550 Administrative prohibition - envelope blocked - https://community.mimecast.example/s/article/email-security-cloud-gateway-mimecast-smtp-error-codes [kQ2p.eu12]\n",
        want("soft", [r("nia@guarded.example", "soft", "5.7.1")]),
    )
    ex(
        "mimecast_invalid_recipient",
        "oto@guarded.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  oto@guarded.example\n    host eu-smtp-inbound-1.mimecast.example [203.0.113.90]\n    SMTP error from remote mail server after RCPT TO:<oto@guarded.example>:\n    550 Invalid Recipient - https://community.mimecast.example/s/article/email-security-cloud-gateway-mimecast-smtp-error-codes\n",
        want("hard", [r("oto@guarded.example", "hard", "5.1.1")], vid=22012),
        did=22012,
    )
    ex(
        "greylist_451",
        "pia@greyed.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  pia@greyed.example\n    host mx.greyed.example [203.0.113.91]\n    SMTP error from remote mail server after RCPT TO:<pia@greyed.example>:\n    451 Greylisting in action, please come back later\n",
        want("soft", [r("pia@greyed.example", "soft", "4.2.0")]),
    )
    ex(
        "tonline_bl",
        "rolf@t-online.example",
        "A message that you sent could not be delivered to one or more of its\nrecipients. This is a permanent error. The following address(es) failed:\n\n  rolf@t-online.example\n    host mx00.t-online.example [203.0.113.92]\n    SMTP error from remote mail server after initial connection:\n    554 IP=192.0.2.44 - A problem occurred. (Ask your postmaster for help or to contact tosa@rx.t-online.example to clarify.) (BL)\n",
        want("soft", [r("rolf@t-online.example", "soft", "5.7.1")]),
    )


def sendmail() -> None:
    host = "mail.sendmail-site.example"
    put(
        "sendmail/transcript_user_unknown",
        report(
            human="The original message was received at Wed, 12 Feb 2025 18:40:11 +0100\nfrom out3.mail.postino.example.com [192.0.2.44]\n\n   ----- The following addresses had permanent fatal errors -----\n<sol@sendmail-site.example>\n    (reason: 550 5.1.1 <sol@sendmail-site.example>... User unknown)\n\n   ----- Transcript of session follows -----\n... while talking to mx.sendmail-site.example.:\n>>> DATA\n<<< 550 5.1.1 <sol@sendmail-site.example>... User unknown\n550 5.1.1 <sol@sendmail-site.example>... User unknown\n<<< 503 5.0.0 Need RCPT (recipient)\n",
            fields=fields(
                host,
                rcpt_block(
                    "sol@sendmail-site.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 <sol@sendmail-site.example>... User unknown",
                    remote="mx.sendmail-site.example",
                ),
                extra="Received-From-MTA: DNS; out3.mail.postino.example.com\n",
            ),
            returned=orig("sol@sendmail-site.example", 23001),
            frm=f"Mail Delivery Subsystem <MAILER-DAEMON@{host}>",
            subject="Returned mail: see transcript for details",
        ),
        want("hard", [r("sol@sendmail-site.example", "hard", "5.1.1")], vid=23001),
        eol="\r\n",
    )
    put(
        "sendmail/deferred_connection_refused",
        report(
            human="**********************************************\n**      THIS IS A WARNING MESSAGE ONLY      **\n**  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n**********************************************\n\nThe original message was received at Wed, 12 Feb 2025 14:40:11 +0100\nfrom out3.mail.postino.example.com [192.0.2.44]\n\n   ----- Transcript of session follows -----\n<tom@refusing.example>... Deferred: Connection refused by mx.refusing.example.\nWarning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n",
            fields=fields(
                host,
                "Final-Recipient: RFC822; tom@refusing.example\nAction: delayed\nStatus: 4.0.0\nWill-Retry-Until: Mon, 17 Feb 2025 18:40:11 +0100",
            ),
            returned=orig("tom@refusing.example", 23002),
            frm=f"Mail Delivery Subsystem <MAILER-DAEMON@{host}>",
            subject="Warning: could not send message for past 4 hours",
        ),
        want("delay", [r("tom@refusing.example", "delay", "4.0.0")], vid=23002),
    )
    put(
        "sendmail/text_only_mailbox_unavailable",
        plain(
            f"From: Mail Delivery Subsystem <MAILER-DAEMON@{host}>\nTo: {FROM}\nSubject: Returned mail: User unknown\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "The original message was received at Wed, 12 Feb 2025 18:40:11 +0100\nfrom out3.mail.postino.example.com [192.0.2.44]\n\n   ----- Transcript of session follows -----\n... while talking to mail.old-isp.example.:\n>>> RCPT To:<uma@old-isp.example>\n<<< 550 Requested action not taken: mailbox unavailable\n550 <uma@old-isp.example>... User unknown\n\n   ----- Original message follows -----\n\n"
            + orig("uma@old-isp.example", 23003),
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("uma@old-isp.example", "hard", "5.1.1")], vid=23003),
        eol="\r",
    )
    put(
        "sendmail/host_unknown",
        report(
            human="The original message was received at Wed, 12 Feb 2025 18:40:11 +0100\n\n   ----- The following addresses had permanent fatal errors -----\n<vic@no-such-host.example>\n    (reason: 550 Host unknown)\n\n   ----- Transcript of session follows -----\n550 5.1.2 <vic@no-such-host.example>... Host unknown (Name server: no-such-host.example: host not found)\n",
            fields=fields(
                host,
                "Final-Recipient: RFC822; vic@no-such-host.example\nAction: failed\nStatus: 5.1.2\nRemote-MTA: DNS; no-such-host.example\nDiagnostic-Code: SMTP; 550 Host unknown",
            ),
            returned=orig("vic@no-such-host.example"),
            frm=f"Mail Delivery Subsystem <MAILER-DAEMON@{host}>",
            subject="Returned mail: see transcript for details",
        ),
        want("hard", [r("vic@no-such-host.example", "hard", "5.1.2")]),
    )


def qmail() -> None:
    def qm(
        name: str,
        text: str,
        to: str,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        eol: str = "\n",
    ) -> None:
        put(
            f"qmail/{name}",
            plain(
                f"Return-Path: <>\nFrom: MAILER-DAEMON@mail.qmail-site.example\nTo: {verp(did) if did else FROM}\nSubject: failure notice\nDate: 12 Feb 2025 17:40:14 -0000\nMessage-ID: <20250212174014.93012.qmail@mail.qmail-site.example>\n",
                "Hi. This is the qmail-send program at mail.qmail-site.example.\nI'm afraid I wasn't able to deliver your message to the following addresses.\nThis is a permanent error; I've given up. Sorry it didn't work out.\n\n"
                + text
                + "\n--- Below this line is a copy of the message.\n\n"
                + orig(to),
                charset="us-ascii",
                cte="7bit",
            ),
            expected,
            eol=eol,
        )

    qm(
        "vpopmail_no_mailbox",
        "<wes@qmail-site.example>:\nSorry, no mailbox here by that name. vpopmail (#5.1.1)\n",
        "wes@qmail-site.example",
        want("hard", [r("wes@qmail-site.example", "hard", "5.1.1")], vid=24001),
        did=24001,
    )
    qm(
        "remote_does_not_like",
        "<xia@recipient.example>:\n203.0.113.25 does not like recipient.\nRemote host said: 550 No such user here\nGiving up on 203.0.113.25.\n",
        "xia@recipient.example",
        want("hard", [r("xia@recipient.example", "hard", "5.1.1")]),
        eol="\r\n",
    )
    qm(
        "no_host_named",
        "<yan@vanished.example>:\nSorry, I couldn't find any host named vanished.example. (#5.1.2)\n",
        "yan@vanished.example",
        want("hard", [r("yan@vanished.example", "hard", "5.1.2")], vid=24003),
        did=24003,
    )
    qm(
        "smtp_connect_gave_up",
        "<zak@offline.example>:\nI wasn't able to establish an SMTP connection. (#4.4.1)\nI'm not going to try again; this message has been in the queue too long.\n",
        "zak@offline.example",
        want("soft", [r("zak@offline.example", "soft", "4.4.1")]),
    )
    qm(
        "maildir_quota",
        "<ada@qmail-site.example>:\nThe user's maildir has overdrawn his diskspace quota, please try again later. (#5.2.2)\n",
        "ada@qmail-site.example",
        want("soft", [r("ada@qmail-site.example", "soft", "5.2.2")]),
    )


def exchange() -> None:
    def ndr(
        name: str,
        email: str,
        human: str,
        status: str,
        diag: str | None,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        subject: str = "Undeliverable: Twelve recipes for a slow Sunday",
        action: str = "failed",
        eol: str = "\r\n",
        frm: str = "Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso-mail.example>",
        cte: str = "quoted-printable",
        human_charset: str = "utf-8",
    ) -> None:
        put(
            f"exchange/{name}",
            report(
                human=human,
                fields=fields(
                    "DM6PR11MB4545.namprd11.prod.outlook.com",
                    rcpt_block(
                        email, action, status, diag, remote="contoso-mail.example" if diag else None
                    ),
                    extra="Received-From-MTA: dns; out3.mail.postino.example.com\n",
                ),
                returned=orig(email, did),
                frm=frm,
                subject=subject,
                extra="X-MS-Exchange-Message-Is-Ndr: \nX-Auto-Response-Suppress: All\nContent-Language: en-US\n",
                human_charset=human_charset,
                human_cte=cte,
                boundary="_000_ndr_b2_",
                auto_submitted=False,
            ),
            expected,
            eol=eol,
        )

    ndr(
        "o365_new_style_not_found",
        "bo@contoso-mail.example",
        "Your message to bo@contoso-mail.example couldn't be delivered.\n\nbo wasn't found at contoso-mail.example.\n\nletters   Office 365   bo\nAction Required                 Recipient\n\nUnknown To address\n\nHow to Fix It\nThe address may be misspelled or may not exist. Try one or more of the following:\n\nDiagnostic information for administrators:\n\nGenerating server: DM6PR11MB4545.namprd11.prod.outlook.com\n\nbo@contoso-mail.example\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient bo@contoso-mail.example not found by SMTP address lookup'\n",
        "5.1.10",
        "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient bo@contoso-mail.example not found by SMTP address lookup",
        want("hard", [r("bo@contoso-mail.example", "hard", "5.1.10")], vid=25001),
        did=25001,
        subject="Undeliverable: Twelve recipes for a slow Sunday",
    )
    ndr(
        "unable_to_relay",
        "cy@partner.example",
        "Delivery has failed to these recipients or groups:\n\ncy@partner.example\nYour message wasn't delivered because the recipient's e-mail provider rejected it.\n\nDiagnostic information for administrators:\n\nGenerating server: EXCH16.corp.example\n\ncy@partner.example\nRemote Server returned '550 5.7.1 Unable to relay'\n",
        "5.7.1",
        "550 5.7.1 Unable to relay",
        want("soft", [r("cy@partner.example", "soft", "5.7.1")]),
        frm="postmaster@corp.example",
    )
    ndr(
        "2016_quota_exceeded",
        "dee@contoso-mail.example",
        "Delivery has failed to these recipients or groups:\n\ndee@contoso-mail.example\nThe recipient's mailbox is full and can't accept messages now. Please try resending this message later, or contact the recipient directly.\n\nDiagnostic information for administrators:\n\nGenerating server: EXCH19.contoso-mail.example\n\ndee@contoso-mail.example\nRemote Server returned '554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot open mailbox.[EndDiagnosticData]'\n",
        "5.2.2",
        "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
        want("soft", [r("dee@contoso-mail.example", "soft", "5.2.2")], vid=25003),
        did=25003,
    )
    ndr(
        "dmarc_5_7_509",
        "eli@contoso-mail.example",
        "Your message to eli@contoso-mail.example couldn't be delivered.\n\nThe recipient's organization has rejected the message because it failed DMARC verification.\n\nDiagnostic information for administrators:\n\nRemote Server returned '550 5.7.509 Access denied, sending domain mail.postino.example.com does not pass DMARC verification and has a DMARC policy of reject.'\n",
        "5.7.509",
        "550 5.7.509 Access denied, sending domain mail.postino.example.com does not pass DMARC verification and has a DMARC policy of reject.",
        want("soft", [r("eli@contoso-mail.example", "soft", "5.7.509")]),
    )
    ndr(
        "delayed_dsn",
        "fox@slow-exchange.example",
        "Delivery is delayed to these recipients or groups:\n\nfox@slow-exchange.example\n\nThis message hasn't been delivered yet. Delivery will continue to be attempted.\n\nThe server will keep trying to deliver this message for the next 1 days, 20 hours and 4 minutes. You'll be notified if the message can't be delivered by that time.\n\nDiagnostic information for administrators:\n\nServer at slow-exchange.example returned '400 4.4.7 Message delayed'\n",
        "4.4.7",
        "400 4.4.7 Message delayed",
        want("delay", [r("fox@slow-exchange.example", "delay", "4.4.7")], vid=25005),
        did=25005,
        subject="Delivery delayed:Twelve recipes for a slow Sunday",
        action="delayed",
    )
    ndr(
        "relayed_complete",
        "gil@contoso-mail.example",
        "Delivery to these recipients or groups is complete, but no delivery notification was sent by the destination server:\n\ngil@contoso-mail.example\n\nSubject: Twelve recipes for a slow Sunday\n",
        "2.0.0",
        None,
        want("not_bounce", [r("gil@contoso-mail.example", "not_bounce", "2.0.0")]),
        subject="Relayed: Twelve recipes for a slow Sunday",
        action="relayed",
    )
    ndr(
        "spam_quarantine_5_7_350",
        "hoa@contoso-mail.example",
        "Your message to hoa@contoso-mail.example couldn't be delivered.\n\nThe message was rejected by the recipient's email system.\n\nRemote Server returned '550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected due to content restrictions'\n",
        "5.7.350",
        "550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Message rejected due to content restrictions",
        want("soft", [r("hoa@contoso-mail.example", "soft", "5.7.350")]),
    )
    # Exchange 2010, forwarded by a help desk, so only the text survives.
    put(
        "exchange/2010_text_resolver",
        plain(
            f"From: postmaster@hq.fabrikam-corp.example\nTo: {FROM}\nSubject: Undeliverable: Twelve recipes for a slow Sunday\nDate: Wed, 12 Feb 2025 18:40:14 +0100\nX-MS-Exchange-Message-Is-Ndr:\n",
            "Delivery has failed to these recipients or groups:\n\nIvo Marek\nThe e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message. If the problem continues, please contact your helpdesk.\n\n\n\n\n\nDiagnostic information for administrators:\n\nGenerating server: FAB-EX01.hq.fabrikam-corp.example\n\nivo.marek@fabrikam-corp.example\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\nOriginal message headers:\n\n"
            + orig("ivo.marek@fabrikam-corp.example", 25008),
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("ivo.marek@fabrikam-corp.example", "hard", "5.1.1")], vid=25008),
        eol="\r\n",
    )
    put(
        "exchange/de_unzustellbar_qp",
        plain(
            f"From: Microsoft Outlook <postmaster@firma-beispiel.example>\nTo: {FROM}\nSubject: =?iso-8859-1?Q?Unzustellbar:_Twelve_recipes_for_a_slow_Sunday?=\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "Die Zustellung an diese Empfänger oder Gruppen ist fehlgeschlagen:\n\njens.kaiser@firma-beispiel.example\nDie eingegebene E-Mail-Adresse wurde nicht gefunden. Überprüfen Sie die E-Mail-Adresse des Empfängers, und versuchen Sie dann, die Nachricht erneut zu senden.\n\nDiagnoseinformationen für Administratoren:\n\nGenerierender Server: EX01.firma-beispiel.example\n\njens.kaiser@firma-beispiel.example\nRemote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'\n",
            charset="iso-8859-1",
            cte="quoted-printable",
        ),
        want("hard", [r("jens.kaiser@firma-beispiel.example", "hard", "5.1.1")]),
        charset="iso-8859-1",
    )


def gmail() -> None:
    def gm(
        name: str,
        email: str,
        status: str,
        diag: str,
        human: str,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        action: str = "failed",
        subject: str = "Delivery Status Notification (Failure)",
    ) -> None:
        put(
            f"gmail/{name}",
            report(
                human=human,
                fields=fields(
                    "googlemail.com",
                    rcpt_block(email, action, status, diag, remote="mx.recipient.example"),
                    extra="Received-From-MTA: dns; mail-sor-f41.google.com\n",
                ),
                returned=orig(email, did),
                frm="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                subject=subject,
                boundary="000000000000b2a11c062de8ff01",
                headers_only=False,
                human_charset="UTF-8",
                human_cte="quoted-printable",
            ),
            expected,
            eol="\r\n",
        )

    gm(
        "multiline_5_1_1",
        "kim.l@gmail.example",
        "5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist. Please\n try\n 550-5.1.1 double-checking the recipient's email address for typos or\n 550-5.1.1 unnecessary spaces. For more information, go to\n 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser 5b1f17b1804b1-43b2e3f1a9bsor123456f8f.12 - gsmtp",
        "\n** Address not found **\n\nYour message wasn't delivered to kim.l@gmail.example because the address couldn't be found, or is unable to receive mail.\n\nLearn more here: https://support.google.com/mail/?p=NoSuchUser\n\nThe response was:\n\n550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces.\n",
        want("hard", [r("kim.l@gmail.example", "hard", "5.1.1")], vid=26001),
        did=26001,
    )
    gm(
        "out_of_storage_inactive",
        "lia.m@gmail.example",
        "5.2.2",
        "552-5.2.2 The recipient's inbox is out of storage space and inactive.\n 552-5.2.2 Please direct the recipient to\n 552 5.2.2  https://support.google.com/mail/?p=OverQuotaPerm 5b1f17b1804b1-43b2e3f1a9bsor123457f8f.91 - gsmtp",
        "\n** Message not delivered **\n\nYour message couldn't be delivered to lia.m@gmail.example because the remote server is misconfigured. See technical details below for more information.\n\nThe response from the remote server was:\n\n552 5.2.2 The recipient's inbox is out of storage space and inactive.\n",
        want("soft", [r("lia.m@gmail.example", "soft", "5.2.2")]),
    )
    gm(
        "unusual_rate_final",
        "max.n@gmail.example",
        "4.7.0",
        "421-4.7.0 [192.0.2.44      15] Our system has detected an unusual rate of\n 421-4.7.0 unsolicited mail originating from your IP address. To protect our\n 421 4.7.0 users from spam, mail sent from your IP address has been temporarily rate limited.",
        "\n** Message not delivered **\n\nThere was a temporary problem delivering your message to max.n@gmail.example. Gmail gave up after trying for 2 days.\n",
        want("soft", [r("max.n@gmail.example", "soft", "4.7.0")], vid=26003),
        did=26003,
    )
    gm(
        "unauthenticated_5_7_26",
        "ned.o@gmail.example",
        "5.7.26",
        "550-5.7.26 This mail has been blocked because the sender is\n 550-5.7.26 unauthenticated. Gmail requires all senders to authenticate with\n 550 5.7.26 either SPF or DKIM.",
        "\n** Message blocked **\n\nYour message to ned.o@gmail.example has been blocked. See technical details below for more information.\n",
        want("soft", [r("ned.o@gmail.example", "soft", "5.7.26")]),
    )
    gm(
        "message_too_big",
        "ora.p@gmail.example",
        "5.3.4",
        "552-5.3.4 Your message exceeded Google's message size limits. For more\n 552 5.3.4 information, go to https://support.google.com/mail/?p=MaxSizeError",
        "\n** Message too large **\n\nYour message to ora.p@gmail.example was not delivered because it is too large.\n",
        want("soft", [r("ora.p@gmail.example", "soft", "5.3.4")]),
    )
    # Gmail's own notice forwarded as plain text (the report part lost).
    put(
        "gmail/forwarded_disabled_text",
        plain(
            f"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: {FROM}\nSubject: Delivery Status Notification (Failure)\nDate: Wed, 12 Feb 2025 09:40:14 -0800\n",
            "Address not found\n\nYour message wasn't delivered to pat.q@gmail.example because the address couldn't be found, or is unable to receive mail.\n\nThe response from the remote server was:\n550 5.2.1 The email account that you tried to reach is disabled. Learn more at\n https://support.google.com/mail/?p=DisabledUser 2adb3069b0e04-545fe3c3a77si1234567e87.233 - gsmtp\n",
        ),
        want("hard", [r("pat.q@gmail.example", "hard", "5.2.1")]),
    )


def yahoo_outlook_icloud() -> None:
    def relay(
        folder_name: str,
        email: str,
        status: str,
        diag: str,
        expected: dict[str, Any],
        *,
        did: int | None = None,
        action: str = "failed",
        eol: str = "\n",
    ) -> None:
        host = "mta9.postino-relay.example"
        put(
            folder_name,
            report(
                human=POSTFIX.format(
                    host=host,
                    lines=f"<{email}>: host mx.provider.example[203.0.113.50] said: {diag} (in reply to RCPT TO command)",
                ),
                fields=fields(
                    host, rcpt_block(email, action, status, diag, remote="mx.provider.example")
                ),
                returned=orig(email, did),
                frm=f"MAILER-DAEMON@{host} (Mail Delivery System)",
                subject="Undelivered Mail Returned to Sender"
                if action == "failed"
                else "Delayed Mail (still being retried)",
            ),
            expected,
            eol=eol,
        )

    relay(
        "yahoo/554_30_disabled",
        "rex_t@yahoo.example",
        "5.0.0",
        "554 30 Sorry, your message to rex_t@yahoo.example cannot be delivered. This mailbox is disabled (554.30).",
        want("hard", [r("rex_t@yahoo.example", "hard", "5.2.1")], vid=27001),
        did=27001,
    )
    relay(
        "yahoo/bl21_spamhaus",
        "sue_u@yahoo.example",
        "5.7.1",
        "553 5.7.1 [BL21] Connections will not be accepted from 192.0.2.44, because the ip is in Spamhaus's list; see https://postmaster.yahooinc.com/error-codes",
        want("soft", [r("sue_u@yahoo.example", "soft", "5.7.1")]),
    )
    relay(
        "yahoo/tss04_delayed",
        "ted_v@aol.example",
        "4.7.0",
        "421 4.7.0 [TSS04] Messages from 192.0.2.44 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        want("delay", [r("ted_v@aol.example", "delay", "4.7.0")], vid=27003),
        did=27003,
        action="delayed",
    )
    relay(
        "yahoo/policy_5_7_9",
        "uli_w@yahoo.example",
        "5.7.9",
        "554 5.7.9 Message not accepted for policy reasons.  See https://postmaster.yahooinc.com/error-codes",
        want("soft", [r("uli_w@yahoo.example", "soft", "5.7.9")]),
    )
    relay(
        "yahoo/552_1_mailbox_not_found",
        "val_x@aol.example",
        "5.0.0",
        "552 1 Requested mail action aborted, mailbox not found",
        want("hard", [r("val_x@aol.example", "hard", "5.1.1")]),
        eol="\r\n",
    )
    relay(
        "outlook_com/s3150_block_list",
        "wen_y@outlook.example",
        "5.7.1",
        "550 5.7.1 Unfortunately, messages from [192.0.2.44] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [DB5PEPF00014B89.eurprd02.prod.outlook.com 2025-02-12T17:40:14.123Z 08DD4AF3C1E2F7B1]",
        want("soft", [r("wen_y@outlook.example", "soft", "5.7.1")]),
        eol="\r\n",
    )
    relay(
        "outlook_com/sc001_dynamic",
        "xan_z@hotmail.example",
        "5.0.0",
        "550 SC-001 (BAY004-MC1F3) Unfortunately, messages from 192.0.2.44 weren't sent. Please contact your Internet service provider. You can tell them that Hotmail does not relay dynamically-assigned IP ranges.",
        want("soft", [r("xan_z@hotmail.example", "soft", "5.7.1")]),
    )
    relay(
        "outlook_com/mailbox_unavailable_s2017",
        "yul_a@live.example",
        "5.5.0",
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [VI1EUR06FT012.eop-eur06.prod.protection.outlook.com 2025-02-12T17:40:14.500Z 08DD4AF3C1E2F7B2]",
        want("hard", [r("yul_a@live.example", "hard", "5.5.0")], vid=27008),
        did=27008,
    )
    relay(
        "misc/icloud_user_unknown",
        "zia@icloud.example",
        "5.1.1",
        "550 5.1.1 <zia@icloud.example>: user does not exist",
        want("hard", [r("zia@icloud.example", "hard", "5.1.1")], vid=27009),
        did=27009,
    )
    relay(
        "misc/icloud_cs01_policy",
        "abby@me.example",
        "5.7.1",
        "554 5.7.1 [CS01] Message rejected due to local policy. Please visit https://support.apple.com/en-us/HT204137",
        want("soft", [r("abby@me.example", "soft", "5.7.1")]),
    )
    relay(
        "misc/zoho_no_user",
        "ben@zoho-client.example",
        "5.1.1",
        "550 5.1.1 User does not exist - <ben@zoho-client.example>",
        want("hard", [r("ben@zoho-client.example", "hard", "5.1.1")]),
    )
    relay(
        "misc/proton_full",
        "cat@proton.example",
        "5.2.2",
        "552 5.2.2 <cat@proton.example>: Recipient address rejected: Mailbox is full",
        want("soft", [r("cat@proton.example", "soft", "5.2.2")]),
    )
    relay(
        "misc/yandex_no_such_user_5_7_1",
        "dan@yandex.example",
        "5.7.1",
        "550 5.7.1 No such user!",
        want("hard", [r("dan@yandex.example", "hard", "5.7.1")]),
        eol="\r\n",
    )
    relay(
        "misc/mailru_account_disabled",
        "eva@mail-ru.example",
        "5.0.0",
        "550 Message was not accepted -- invalid mailbox.  Local mailbox eva@mail-ru.example is unavailable: account is disabled",
        want("hard", [r("eva@mail-ru.example", "hard", "5.2.1")]),
    )
    relay(
        "misc/qq_mailbox_not_found",
        "12345678@qq.example",
        "5.0.0",
        "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
        want("hard", [r("12345678@qq.example", "hard", "5.1.1")]),
    )
    relay(
        "misc/docomo_unknown",
        "fumi@docomo.example",
        "5.0.0",
        "550 Unknown user fumi@docomo.example",
        want("hard", [r("fumi@docomo.example", "hard", "5.1.1")]),
    )
    relay(
        "misc/proofpoint_blocked",
        "gia@ppcustomer.example",
        "5.7.0",
        "550 5.7.0 Local Policy Violation - https://support.proofpoint.example/dnsbl-lookup.cgi?ip=192.0.2.44",
        want("soft", [r("gia@ppcustomer.example", "soft", "5.7.0")]),
    )
    relay(
        "misc/barracuda_permanent_blocked",
        "hap@barra.example",
        "5.0.0",
        "550 permanent failure for one or more recipients (hap@barra.example:blocked)",
        want("soft", [r("hap@barra.example", "soft", "5.7.1")]),
    )
    relay(
        "misc/webde_policy_restrictions",
        "ivy@webde.example",
        "5.0.0",
        "554-Transaction failed 554-Reject due to policy restrictions. 554 For explanation visit https://web.de/email/senderguidelines?ip=192.0.2.44&c=hi",
        want("soft", [r("ivy@webde.example", "soft", "5.7.1")]),
    )
    relay(
        "misc/account_expired",
        "jay@campus.example",
        "5.0.0",
        "550 Account expired; contact the university help desk",
        want("hard", [r("jay@campus.example", "hard", "5.2.1")]),
    )
    relay(
        "misc/address_changed",
        "kit@oldjob.example",
        "5.0.0",
        "550 The recipient's address has changed, please update your records",
        want("hard", [r("kit@oldjob.example", "hard", "5.1.6")]),
    )


def i18n() -> None:
    def notice(
        name: str,
        frm: str,
        subject: str,
        text: str,
        charset: str,
        cte: str,
        expected: dict[str, Any],
        *,
        to: str | None = None,
        returned: str | None = None,
        eol: str = "\n",
    ) -> None:
        extra = "" if returned is None else "\n" + returned
        put(
            f"i18n/{name}",
            plain(
                f"From: {frm}\nTo: {to or FROM}\nSubject: {subject}\nDate: Wed, 12 Feb 2025 18:40:14 +0100\nAuto-Submitted: auto-replied\n",
                text + extra,
                charset=charset,
                cte=cte,
            ),
            expected,
            charset=charset if cte in ("7bit", "8bit") else "utf-8",
            eol=eol,
        )

    notice(
        "de_gmx_postfach_voll",
        "Mail Delivery System <mailer-daemon@gmx-like.example>",
        "Mail delivery failed: returning message to sender",
        "Ihre Nachricht konnte nicht an alle Empfänger zugestellt werden.\n\nFolgende Empfänger sind betroffen:\n\n  lara@gmx-like.example\n    Das Postfach des Empfängers hat das Speicherlimit erreicht.\n    Bitte versuchen Sie es später noch einmal.\n",
        "iso-8859-15",
        "quoted-printable",
        want("soft", [r("lara@gmx-like.example", "soft", "5.2.2")]),
    )
    notice(
        "de_konto_gesperrt",
        "MAILER-DAEMON@mx.webde.example",
        "Unzustellbar: Twelve recipes for a slow Sunday",
        "Die Nachricht konnte nicht zugestellt werden.\n\n<mats@webde.example>:\nDas Konto des Empfängers wurde gesperrt.\n",
        "iso-8859-1",
        "8bit",
        want("hard", [r("mats@webde.example", "hard", "5.2.1")]),
        eol="\r\n",
    )
    notice(
        "fr_sfr_compte_desactive",
        "Service de messagerie <postmaster@sfr-like.example>",
        "=?iso-8859-1?Q?Non_remis_:_Twelve_recipes?=",
        "Ce message a été généré automatiquement.\n\nVotre message n'a pas pu être remis au destinataire suivant :\n\nnoe@sfr-like.example\n    Le compte du destinataire est désactivé.\n",
        "iso-8859-1",
        "quoted-printable",
        want("hard", [r("noe@sfr-like.example", "hard", "5.2.1")]),
    )
    notice(
        "fr_laposte_introuvable",
        "MAILER-DAEMON@laposte-like.example",
        ew("Échec de la distribution", "utf-8"),
        "Votre message n'a pas pu être distribué.\n\nDestinataire : olga@laposte-like.example\nMotif : adresse e-mail du destinataire introuvable.\n",
        "utf-8",
        "base64",
        want("hard", [r("olga@laposte-like.example", "hard", "5.1.1")]),
    )
    notice(
        "fr_orange_boite_pleine",
        "Mail Delivery System <MAILER-DAEMON@orange-like.example>",
        "Undelivered Mail Returned to Sender",
        "Votre message n'a pas pu être distribué à un ou plusieurs destinataires.\n\n<paul@orange-like.example> : La boîte aux lettres du destinataire a atteint sa limite de stockage (quota dépassé).\n",
        "iso-8859-15",
        "8bit",
        want("soft", [r("paul@orange-like.example", "soft", "5.2.2")]),
    )
    notice(
        "it_libero_disattivata",
        "Mail Delivery Subsystem <MAILER-DAEMON@libero-like.example>",
        "Messaggio non recapitato: Twelve recipes",
        "Il messaggio non è stato recapitato ai seguenti destinatari:\n\nquirino@libero-like.example\n    la casella di posta del destinatario è disattivata.\n",
        "iso-8859-1",
        "quoted-printable",
        want("hard", [r("quirino@libero-like.example", "hard", "5.2.1")]),
    )
    notice(
        "it_virgilio_spazio",
        "MAILER-DAEMON@virgilio-like.example",
        "Mancato recapito del messaggio",
        "Impossibile consegnare il messaggio.\n\nrita@virgilio-like.example: la casella del destinatario ha superato il limite di spazio disponibile.\n",
        "utf-8",
        "8bit",
        want("soft", [r("rita@virgilio-like.example", "soft", "5.2.2")]),
    )
    notice(
        "ru_koi8_mailbox_full",
        "MAILER-DAEMON@yandex-like.example",
        ew("Уведомление о недоставке письма", "koi8-r"),
        "Сообщение не удалось доставить.\n\nПолучатель: semyon@yandex-like.example\nПричина: почтовый ящик получателя переполнен.\n",
        "koi8-r",
        "8bit",
        want("soft", [r("semyon@yandex-like.example", "soft", "5.2.2")]),
    )
    notice(
        "ru_1251_account_blocked",
        "Mail Delivery System <MAILER-DAEMON@mail-ru.example>",
        "Недоставленное сообщение",
        "Ваше сообщение не было доставлено.\n\ntimur@mail-ru.example\n    Учетная запись получателя заблокирована.\n",
        "windows-1251",
        "base64",
        want("hard", [r("timur@mail-ru.example", "hard", "5.2.1")]),
    )
    notice(
        "zh_gbk_163_full",
        "MAILER-DAEMON@163-like.example",
        "系统退信",
        "您发送的邮件未能成功投递到以下收件人：\n\n  wanglei@163-like.example\n\n原因：收件人邮箱空间已满，无法接收新邮件。\n",
        "gbk",
        "base64",
        want("soft", [r("wanglei@163-like.example", "soft", "5.2.2")]),
    )
    notice(
        "zh_sina_not_exist",
        "MAILER-DAEMON@sina-like.example",
        "退信通知",
        "很抱歉，您的邮件无法送达以下地址：\n\nzhaomin@sina-like.example\n\n失败原因：该邮箱地址不存在，请核对后重新发送。\n",
        "gbk",
        "8bit",
        want("hard", [r("zhaomin@sina-like.example", "hard", "5.1.1")]),
    )
    notice(
        "zh_tw_big5_full",
        "MAILER-DAEMON@hinet-like.example",
        ew("郵件無法投遞", "big5"),
        "您的郵件無法投遞給下列收件者：\n\nchen@hinet-like.example\n    收件者信箱已滿。\n",
        "big5",
        "8bit",
        want("soft", [r("chen@hinet-like.example", "soft", "5.2.2")]),
    )
    notice(
        "ja_sjis_capacity_exceeded",
        "Mail Delivery Subsystem <MAILER-DAEMON@softbank-like.example>",
        ew("配信できませんでした", "iso-2022-jp"),
        "次の宛先へメッセージを配信できませんでした。\n\n  hiro@softbank-like.example\n    メールボックスの容量が超過しています。\n",
        "shift_jis",
        "8bit",
        want("soft", [r("hiro@softbank-like.example", "soft", "5.2.2")]),
    )
    notice(
        "ja_eucjp_unknown",
        "MAILER-DAEMON@docomo-like.example",
        "Returned mail: User unknown",
        "以下のアドレスへの配信に失敗しました。\n\n  yuki@docomo-like.example\n    宛先のメールアドレスは存在しません。\n",
        "euc-jp",
        "8bit",
        want("hard", [r("yuki@docomo-like.example", "hard", "5.1.1")]),
    )
    notice(
        "cs_seznam_neexistuje",
        "Mail Delivery System <MAILER-DAEMON@seznam-like.example>",
        "=?iso-8859-2?Q?Nedoru=E8iteln=E1_zpr=E1va?=",
        "Vaši zprávu nebylo možné doručit.\n\nalena@seznam-like.example\n    Adresát neexistuje.\n",
        "iso-8859-2",
        "quoted-printable",
        want("hard", [r("alena@seznam-like.example", "hard", "5.1.1")]),
    )
    notice(
        "cs_seznam_plna",
        "Mail Delivery System <MAILER-DAEMON@seznam-like.example>",
        "Nedoručitelná zpráva",
        "Vaši zprávu nebylo možné doručit.\n\nbohus@seznam-like.example\n    Schránka příjemce je plná.\n",
        "iso-8859-2",
        "8bit",
        want("soft", [r("bohus@seznam-like.example", "soft", "5.2.2")]),
    )
    notice(
        "pl_interia_zablokowane",
        "MAILER-DAEMON@interia-like.example",
        "Wiadomość niedostarczona",
        "Twoja wiadomość nie mogła zostać dostarczona.\n\ncezary@interia-like.example\n    Konto odbiorcy zostało zablokowane.\n",
        "iso-8859-2",
        "quoted-printable",
        want("hard", [r("cezary@interia-like.example", "hard", "5.2.1")]),
    )
    notice(
        "pl_wp_skrzynka_pelna",
        "MAILER-DAEMON@wp-like.example",
        "Zwrot: wiadomość niedostarczona",
        "Wiadomość nie została dostarczona do odbiorcy:\n\ndorota@wp-like.example\n    Skrzynka odbiorcy jest pełna.\n",
        "utf-8",
        "8bit",
        want("soft", [r("dorota@wp-like.example", "soft", "5.2.2")]),
    )
    notice(
        "pt_uol_conta_desativada",
        "MAILER-DAEMON@uol-like.example",
        "Mensagem não entregue",
        "Sua mensagem não pôde ser entregue ao destinatário:\n\nedu@uol-like.example\n    A conta do destinatário está desativada.\n",
        "iso-8859-1",
        "quoted-printable",
        want("hard", [r("edu@uol-like.example", "hard", "5.2.1")]),
    )
    notice(
        "pt_terra_usuario_inexistente",
        "MAILER-DAEMON@terra-like.example",
        "Falha na entrega da mensagem",
        "Não foi possível entregar a mensagem para:\n\nfabio@terra-like.example\n    550 5.1.1 <fabio@terra-like.example>: Recipient address rejected: Usuario inexistente\n",
        "windows-1252",
        "8bit",
        want("hard", [r("fabio@terra-like.example", "hard", "5.1.1")]),
    )
    notice(
        "es_cuota_excedida",
        "MAILER-DAEMON@correo-like.example",
        "No se puede entregar: Twelve recipes",
        "No se ha podido entregar el mensaje a los siguientes destinatarios:\n\ngema@correo-like.example\n    El buzón del destinatario ha superado su cuota de almacenamiento.\n",
        "iso-8859-15",
        "quoted-printable",
        want("soft", [r("gema@correo-like.example", "soft", "5.2.2")]),
    )


def various() -> None:
    # Courier, with its report part.
    put(
        "misc/courier_relay_denied",
        report(
            human="This is a delivery status notification from mail.courier-host.example,\nrunning the Courier mail server, version 1.1.12.\n\nThe original message was received on Wed, 12 Feb 2025 18:40:11 +0100\nfrom out3.mail.postino.example.com [192.0.2.44]\n\n---------------------------------------------------------------------------\n\n                           UNDELIVERABLE MAIL\n\nYour message to the following recipients cannot be delivered:\n\n<hugo@courier-host.example>:\n    mx.courier-host.example [203.0.113.93]:\n>>> RCPT TO:<hugo@courier-host.example>\n<<< 550 5.7.1 <hugo@courier-host.example>: Relay access denied\n\n---------------------------------------------------------------------------\n",
            fields=fields(
                "mail.courier-host.example",
                rcpt_block(
                    "hugo@courier-host.example",
                    "failed",
                    "5.0.0",
                    "550 5.7.1 <hugo@courier-host.example>: Relay access denied",
                    remote="mx.courier-host.example",
                ),
            ),
            returned=orig("hugo@courier-host.example", 28001),
            frm="Courier mail server at mail.courier-host.example <@>",
            subject="DELIVERY FAILURE: 550 5.7.1 <hugo@courier-host.example>: Relay access denied",
        ),
        want("soft", [r("hugo@courier-host.example", "soft", "5.7.1")], vid=28001),
    )
    put(
        "misc/mdaemon_transcript",
        plain(
            f"From: MDaemon@mail.mdaemon-site.example\nTo: {FROM}\nSubject: Permanent Delivery Failure\nDate: Wed, 12 Feb 2025 18:40:14 +0100\nX-MDaemon-Deliver-To: {FROM}\n",
            "The attached message had PERMANENT fatal delivery errors!\n\nAfter one or more unsuccessful delivery attempts the attached message has\nbeen removed from the mail queue on this server.\n\n--- Session Transcript ---\n Wed 2025-02-12 18:40:12.120: Parsing message <mail.mdaemon-site.example\\pd50000123.msg>\n Wed 2025-02-12 18:40:12.131: *  From: letters@mail.postino.example.com\n Wed 2025-02-12 18:40:12.131: *  To: ines@mdaemon-dest.example\n Wed 2025-02-12 18:40:12.250: Attempting SMTP connection to [mx.mdaemon-dest.example : 25]\n Wed 2025-02-12 18:40:12.480: --> RCPT To:<ines@mdaemon-dest.example>\n Wed 2025-02-12 18:40:12.512: <-- 550 5.1.1 <ines@mdaemon-dest.example>: Recipient address rejected: User unknown in relay recipient table\n--- End Transcript ---\n",
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("ines@mdaemon-dest.example", "hard", "5.1.1")]),
    )
    put(
        "misc/kerio_did_not_reach",
        plain(
            f"From: Mail Delivery Subsystem <postmaster@kerio-site.example>\nTo: {FROM}\nSubject: Undelivered mail: Twelve recipes for a slow Sunday\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "Your message did not reach some or all of the intended recipients.\n\n   Sent: Wed, 12 Feb 2025 18:40:09 +0100\n   Subject: Twelve recipes for a slow Sunday\n\nThe following recipient(s) could not be reached:\n\njoel@kerio-dest.example\n   Error Type: SMTP\n   Remote server (203.0.113.94) issued an error.\n   Server sent: RCPT TO:<joel@kerio-dest.example>\n   Remote server replied: 550 5.2.1 Mailbox unavailable, account suspended\n",
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("joel@kerio-dest.example", "hard", "5.2.1")]),
    )
    put(
        "domino/no_route_found",
        plain(
            f"From: Mail Router <postmaster@lotus-site.example>\nTo: {FROM}\nSubject: DELIVERY FAILURE: No route found to domain lotus-partner.example from server MAIL01/Lotus.\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "Your message\n\n  Subject: Twelve recipes for a slow Sunday\n\nwas not delivered to:\n\n  kurt@lotus-partner.example\n\nbecause:\n\n  No route found to domain lotus-partner.example from server MAIL01/Lotus. Check Server, Connection and Domain documents in Domino Directory.\n",
            charset="us-ascii",
            cte="7bit",
        ),
        want("soft", [r("kurt@lotus-partner.example", "soft", None)]),
    )
    put(
        "domino/user_not_listed_alt",
        plain(
            f"From: Postmaster@lotus-site.example\nTo: {verp(28005)}\nSubject: DELIVERY FAILURE: User lena.w (lena.w@lotus-site.example) not listed in Domino Directory\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "Your message\n\n  Subject: Twelve recipes for a slow Sunday\n\nwas not delivered to:\n\n  lena.w@lotus-site.example\n\nbecause:\n\n  User lena.w (lena.w@lotus-site.example) not listed in Domino Directory\n",
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("lena.w@lotus-site.example", "hard", "5.1.1")], vid=28005),
        eol="\r\n",
    )
    put(
        "groupwise/host_not_found",
        plain(
            f"From: Mail Delivery System <postmaster@gw-site.example>\nTo: {FROM}\nSubject: Message status - undeliverable\nDate: Wed, 12 Feb 2025 18:40:14 +0100\n",
            "The message that you sent was undeliverable to the following:\n\tmia@gw-nowhere.example (host not found)\n\nPossible truncation of the original message.\n",
            charset="us-ascii",
            cte="7bit",
        ),
        want("hard", [r("mia@gw-nowhere.example", "hard", "5.1.2")]),
    )
    # Amazon SES: a DSN from amazonses.com, and notifications by email.
    put(
        "ses/dsn_amazonses",
        report(
            human="An error occurred while trying to deliver the mail to the following recipients:\nnils@recipient.example\n",
            fields=fields(
                "a8-44.smtp-out.amazonses.com",
                rcpt_block(
                    "nils@recipient.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 user unknown",
                    remote="mx.recipient.example",
                ),
            ),
            returned=orig("nils@recipient.example", 28007).replace(
                "Received:",
                "X-SES-Outgoing: 2025.02.12-54.240.8.44\nFeedback-ID: 1.us-east-1.AbCdEf=:AmazonSES\nReceived:",
                1,
            ),
            frm="MAILER-DAEMON@amazonses.com",
            subject="Delivery Status Notification (Failure)",
        ),
        want("hard", [r("nils@recipient.example", "hard", "5.1.1")], vid=28007),
    )
    ses_notice = {
        "Type": "Notification",
        "MessageId": "b6f0c3a1-0000-4e21-9a55-2f0c9e3d7a11",
        "TopicArn": "arn:aws:sns:eu-west-1:000000000000:postino-bounces",
        "Message": json.dumps(
            {
                "notificationType": "Bounce",
                "bounce": {
                    "feedbackId": "0102019500aa-feedback",
                    "bounceType": "Permanent",
                    "bounceSubType": "Suppressed",
                    "bouncedRecipients": [
                        {
                            "emailAddress": "olaf@recipient.example",
                            "action": "failed",
                            "status": "5.1.1",
                            "diagnosticCode": "Amazon SES has suppressed sending to this address because it has a recent history of bouncing as an invalid address.",
                        }
                    ],
                    "timestamp": "2025-02-12T17:40:14.000Z",
                    "reportingMTA": "dns; amazonses.com",
                },
                "mail": {
                    "timestamp": "2025-02-12T17:40:09.000Z",
                    "source": FROM,
                    "messageId": "0102019500aa-mail",
                    "destination": ["olaf@recipient.example"],
                },
            }
        ),
        "Timestamp": "2025-02-12T17:40:14.100Z",
    }
    put(
        "ses/sns_suppressed",
        plain(
            "From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: ops@postino.example.com\nSubject: AWS Notification Message\nDate: Wed, 12 Feb 2025 17:40:15 +0000\n",
            json.dumps(ses_notice, indent=2)
            + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\nhttps://sns.eu-west-1.amazonaws.com/unsubscribe.html\n",
        ),
        want("hard", [r("olaf@recipient.example", "hard", "5.1.1")]),
    )
    put(
        "ses/complaint_arf",
        "From: complaints@email-abuse.amazonses.com\nTo: "
        + verp(28009)
        + '\nSubject: complaint about message from 192.0.2.44\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary="=_ses_fb"\n\n--=_ses_fb\nContent-Type: text/plain; charset=us-ascii\n\nThis is an email abuse report for an email message received from IP 192.0.2.44.\n\n--=_ses_fb\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: Amazon SES Feedback Forwarding\nVersion: 1\nOriginal-Mail-From: <'
        + verp(28009)
        + ">\nOriginal-Rcpt-To: pia@recipient.example\nArrival-Date: Wed, 12 Feb 2025 17:40:12 +0000\n\n--=_ses_fb\nContent-Type: message/rfc822\n\n"
        + orig("pia@recipient.example", 28009)
        + "\n--=_ses_fb--\n",
        want("complaint", [r("pia@recipient.example", "complaint")], ft="abuse", vid=28009),
    )
    put(
        "misc/sendgrid_relay_dsn",
        report(
            human="This is an automatically generated Delivery Status Notification.\n\nDelivery to the following recipient failed permanently:\n\n     quin@recipient.example\n\nTechnical details of permanent failure:\nThe recipient's server said: 550 5.1.1 Mailbox does not exist\n",
            fields=fields(
                "o1.ptr2917.relay-esp.example",
                rcpt_block(
                    "quin@recipient.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 Mailbox does not exist",
                    remote="mx.recipient.example",
                ),
            ),
            returned=orig("quin@recipient.example", 28010),
            frm="Mail Delivery System <MAILER-DAEMON@relay-esp.example>",
        ),
        want("hard", [r("quin@recipient.example", "hard", "5.1.1")], vid=28010),
    )
    put(
        "google_groups/no_permission",
        report(
            human="** Message not delivered **\n\nYou don't have permission to post to the group announce-team@googlegroups.example.\n",
            fields=fields(
                "googlemail.com",
                rcpt_block(
                    "announce-team@googlegroups.example",
                    "failed",
                    "5.7.0",
                    "550 5.7.0 Sender not authorized to post to this group",
                    remote=None,
                ),
            ),
            returned=orig("announce-team@googlegroups.example"),
            frm="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            subject="Delivery Status Notification (Failure)",
        ),
        want("soft", [r("announce-team@googlegroups.example", "soft", "5.7.0")]),
    )


def complaints() -> None:
    def fbl(
        name: str,
        *,
        ft: str | None,
        ua: str,
        rcpt_to: str | None,
        to: str,
        did: int | None,
        expected_rcpts: list[str],
        extra: str = "",
        label: str = "message/feedback-report",
        headers_only: bool = False,
        frm: str = "feedback@fbl.provider.example",
        eol: str = "\n",
        expected_ft: str | None = None,
    ) -> None:
        report_fields = (f"Feedback-Type: {ft}\n" if ft else "") + f"User-Agent: {ua}\nVersion: 1\n"
        if rcpt_to:
            report_fields += f"Original-Rcpt-To: {rcpt_to}\n"
        report_fields += (
            "Source-IP: 192.0.2.44\nReported-Domain: mail.postino.example.com\n" + extra
        )
        returned = orig(to, did, with_body=not headers_only)
        text = (
            f"From: {frm}\nTo: fbl@postino.example.com\nSubject: Email Feedback Report for IP 192.0.2.44\nDate: Wed, 12 Feb 2025 19:02:00 +0000\nMIME-Version: 1.0\n"
            'Content-Type: multipart/report; report-type=feedback-report; boundary="fb_b2"\n\n'
            "--fb_b2\nContent-Type: text/plain; charset=us-ascii\n\nA recipient reported this message as unwanted.\n\n"
            f"--fb_b2\nContent-Type: {label}\n\n{report_fields}\n"
            f"--fb_b2\nContent-Type: {'text/rfc822-headers' if headers_only else 'message/rfc822'}\n\n{returned}\n--fb_b2--\n"
        )
        put(
            f"arf/{name}",
            text,
            want(
                "complaint",
                [r(e, "complaint") for e in expected_rcpts],
                ft=expected_ft or ft or "abuse",
                vid=did,
            ),
            eol=eol,
        )

    fbl(
        "yahoo_to_only",
        ft="abuse",
        ua="Yahoo!-Mail-Feedback/2.0",
        rcpt_to=None,
        to="rosa_b@yahoo.example",
        did=29001,
        expected_rcpts=["rosa_b@yahoo.example"],
        frm="feedback@arf.mail.yahoo.example",
    )
    fbl(
        "aol_redacted",
        ft="abuse",
        ua="AOL SComp",
        rcpt_to=None,
        to="redacted@aol.example",
        did=29002,
        expected_rcpts=[],
        headers_only=True,
        eol="\r\n",
    )
    fbl(
        "outlook_jmrp_arf",
        ft="abuse",
        ua="Microsoft Junk Mail Reporting Program",
        rcpt_to=None,
        to="sid_c@outlook.example",
        did=29003,
        expected_rcpts=["sid_c@outlook.example"],
        frm="staff@hotmail.example",
    )
    fbl(
        "comcast_removal",
        ft="abuse",
        ua="Comcast FBL",
        rcpt_to=None,
        to="tess@comcast.example",
        did=None,
        expected_rcpts=["tess@comcast.example"],
        extra="Removal-Recipient: tess@comcast.example\n",
    )
    fbl(
        "mailru_headers_only",
        ft="abuse",
        ua="Mail.Ru FBL/1.0",
        rcpt_to="<ugo@mail-ru.example>",
        to="ugo@mail-ru.example",
        did=29005,
        expected_rcpts=["ugo@mail-ru.example"],
        headers_only=True,
    )
    fbl(
        "yandex_mislabelled",
        ft="abuse",
        ua="Yandex Feedback Loop",
        rcpt_to="vlad@yandex.example",
        to="vlad@yandex.example",
        did=29006,
        expected_rcpts=["vlad@yandex.example"],
        label="text/plain; charset=us-ascii",
    )
    fbl(
        "fastmail_uppercase_type",
        ft="Abuse",
        ua="FastMail ARF/1.0",
        rcpt_to="Wes@Fastmail.Example",
        to="wes@fastmail.example",
        did=29007,
        expected_rcpts=["wes@fastmail.example"],
        expected_ft="abuse",
    )
    fbl(
        "proofpoint_fraud",
        ft="fraud",
        ua="Proofpoint Feedback/2.1",
        rcpt_to="xena@ppcustomer.example",
        to="xena@ppcustomer.example",
        did=None,
        expected_rcpts=["xena@ppcustomer.example"],
    )
    fbl(
        "auth_failure_dmarc",
        ft="auth-failure",
        ua="dmarc-reporter/0.9",
        rcpt_to="yves@strict.example",
        to="yves@strict.example",
        did=29009,
        expected_rcpts=["yves@strict.example"],
        extra="Auth-Failure: dmarc\nDelivery-Result: reject\nIdentity-Alignment: dkim\n",
    )
    fbl(
        "no_feedback_type",
        ft=None,
        ua="TinyISP-FBL/0.1",
        rcpt_to="zora@tinyisp.example",
        to="zora@tinyisp.example",
        did=29010,
        expected_rcpts=["zora@tinyisp.example"],
    )
    fbl(
        "virus_hashed_rcpt",
        ft="virus",
        ua="ScanFBL/3",
        rcpt_to="5f2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d@scan.example",
        to="5f2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d@scan.example",
        did=29011,
        expected_rcpts=[],
    )
    fbl(
        "not_spam",
        ft="not-spam",
        ua="Webmail-FBL/1.2",
        rcpt_to="abe@webmail.example",
        to="abe@webmail.example",
        did=None,
        expected_rcpts=["abe@webmail.example"],
    )


def not_bounces() -> None:
    def msg(
        path: str,
        headers: str,
        text: str,
        expected: dict[str, Any],
        *,
        charset: str = "utf-8",
        cte: str = "8bit",
        eol: str = "\n",
    ) -> None:
        put(
            path,
            plain(headers, text, charset=charset, cte=cte),
            expected,
            charset=charset if cte in ("7bit", "8bit") else "utf-8",
            eol=eol,
        )

    to = verp(30000)
    quote = "\n\n> This week: braised leeks, a lemon tart and bread that forgives you.\n"
    msg(
        "autoreply/de_abwesenheitsnotiz",
        f"From: Jana Vogel <jana@firma-beispiel.example>\nTo: {to}\nSubject: =?iso-8859-1?Q?Abwesenheitsnotiz:_Twelve_recipes?=\nAuto-Submitted: auto-replied\n",
        "Vielen Dank für Ihre Nachricht. Ich bin bis zum 24.02. nicht im Büro und habe keinen Zugriff auf meine E-Mails. In dringenden Fällen wenden Sie sich bitte an empfang@firma-beispiel.example.\n",
        want("autoreply", vid=30000),
        charset="iso-8859-1",
        cte="quoted-printable",
    )
    msg(
        "autoreply/fr_exchange_headers_only",
        f"From: Luc Martin <luc@societe.example>\nTo: {FROM}\nSubject: =?utf-8?Q?R=C3=A9ponse_automatique=C2=A0:_Twelve_recipes?=\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: luc@societe.example\n",
        "Bonjour,\n\nJe suis absent jusqu'au lundi 24 février avec un accès limité à mes e-mails.\nPour toute urgence, contactez accueil@societe.example.\n",
        want("autoreply"),
        eol="\r\n",
    )
    msg(
        "autoreply/en_inbox_rule_re_subject",
        f"From: Kay Lee <kay@corp.example>\nTo: {FROM}\nSubject: RE: Twelve recipes for a slow Sunday\nX-Auto-Response-Suppress: All\nX-MS-Exchange-Inbox-Rules-Loop: kay@corp.example\n",
        "Thank you for your email. I am on parental leave until 1 April and will not be reading mail.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/es_x_autoreply",
        f"From: Marta Ruiz <marta@empresa.example>\nTo: {FROM}\nSubject: =?iso-8859-1?Q?Respuesta_autom=E1tica:_Twelve_recipes?=\nX-Autoreply: yes\n",
        "Estoy de vacaciones hasta el 3 de marzo. Responderé a su mensaje a mi regreso.\n",
        want("autoreply"),
        charset="iso-8859-1",
        cte="quoted-printable",
    )
    msg(
        "autoreply/pl_autoodpowiedz",
        f"From: Piotr Nowak <piotr@firma-pl.example>\nTo: {FROM}\nSubject: =?utf-8?Q?Autoodpowied=C5=BA:_Twelve_recipes?=\n",
        "Dziękuję za wiadomość. Jestem na urlopie do 28 lutego.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/sv_franvaro",
        f"From: Erik Berg <erik@foretag.example>\nTo: {FROM}\nSubject: =?iso-8859-1?Q?Fr=E5nvaro:_Twelve_recipes?=\n",
        "Hej! Jag är på semester till och med den 2 mars och läser inte min e-post.\n",
        want("autoreply"),
        charset="iso-8859-1",
        cte="8bit",
    )
    msg(
        "autoreply/da_automatisk_svar",
        f"From: Mette Holm <mette@firma-dk.example>\nTo: {FROM}\nSubject: Automatisk svar: Twelve recipes\nAuto-Submitted: auto-replied (vacation)\n",
        "Tak for din mail. Jeg er på ferie og er tilbage mandag den 3. marts.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/fi_automaattinen_vastaus",
        f"From: Aino Virta <aino@yritys.example>\nTo: {FROM}\nSubject: Automaattinen vastaus: Twelve recipes\n",
        "Olen lomalla 28.2. asti. Vastaan viestiisi palattuani.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/cs_automaticka_odpoved",
        f"From: Jan Novak <jan@firma-cz.example>\nTo: {FROM}\nSubject: =?utf-8?Q?Automatick=C3=A1_odpov=C4=9B=C4=8F:_Twelve_recipes?=\n",
        "Dobrý den, do 28. 2. jsem mimo kancelář.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/tr_otomatik_yanit",
        f"From: Ayse Kaya <ayse@sirket.example>\nTo: {FROM}\nSubject: =?utf-8?Q?Otomatik_yan=C4=B1t:_Twelve_recipes?=\n",
        "Merhaba, 3 Mart'a kadar izindeyim.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/ko_auto_reply",
        f"From: Kim Minji <minji@hoesa.example>\nTo: {FROM}\nSubject: {ew('자동 회신: Twelve recipes', 'utf-8')}\n",
        "안녕하세요. 3월 3일까지 휴가 중입니다.\n",
        want("autoreply"),
    )
    msg(
        "autoreply/ja_iso2022_auto",
        f"From: Sato Ken <ken@kaisha.example>\nTo: {FROM}\nSubject: {ew('自動返信', 'iso-2022-jp')}: Twelve recipes\nAuto-Submitted: auto-replied\n",
        "ただいま休暇中です。3月3日以降に返信いたします。\n",
        want("autoreply"),
        charset="iso-2022-jp",
        cte="7bit",
    )
    msg(
        "autoreply/zh_gbk_auto",
        f"From: Li Na <lina@gongsi.example>\nTo: {FROM}\nSubject: {ew('自动回复: Twelve recipes', 'gbk')}\n",
        "您好，我正在休假，3月3日返回。\n",
        want("autoreply"),
        charset="gbk",
        cte="base64",
    )
    msg(
        "autoreply/ru_koi8_auto",
        f"From: Olga <olga@kompania.example>\nTo: {FROM}\nSubject: {ew('Автоответ', 'koi8-r')}: Twelve recipes\nPrecedence: auto_reply\n",
        "Я в отпуске до 3 марта.\n",
        want("autoreply"),
        charset="koi8-r",
        cte="8bit",
    )
    msg(
        "autoreply/en_away_quotes_original",
        f"Return-Path: <>\nFrom: Dan Moss <dan@agency.example>\nTo: {to}\nSubject: I'm away until 3 March (Twelve recipes for a slow Sunday)\n",
        "I'm away until 3 March with no access to email. For urgent matters please call the office.\n\n-----Original Message-----\nFrom: Kitchen Letters <letters@mail.postino.example.com>\nSubject: Twelve recipes for a slow Sunday\n\nThis week: braised leeks, a lemon tart and bread that forgives you.\nCould not deliver your order? Our courier will try again later; see the delivery FAQ.\n",
        want("autoreply", vid=30000),
    )
    msg(
        "autoreply/nl_afwezigheid",
        f"From: Sanne de Vries <sanne@bedrijf.example>\nTo: {FROM}\nSubject: Afwezigheidsmelding: Twelve recipes\nX-Autorespond: Twelve recipes\n",
        "Ik ben afwezig tot en met 28 februari." + quote,
        want("autoreply"),
    )
    msg(
        "not_bounce/challenge_response",
        f"From: Verification <confirm-7f3a@sender-check.example>\nTo: {FROM}\nSubject: Please confirm your message to gwen@guarded-inbox.example\n",
        "Hello,\n\nI use a challenge-response system to protect my inbox from junk mail.\nYour message to gwen@guarded-inbox.example is waiting for your confirmation.\nPlease confirm you are human by clicking the link below; your message will then be delivered.\n\nhttps://sender-check.example/c/7f3a9b\n\nThis request expires in 7 days.\n",
        want("not_bounce"),
    )
    msg(
        "not_bounce/remove_me",
        f"From: Hal Price <hal@homeisp.example>\nTo: {to}\nSubject: Re: Twelve recipes for a slow Sunday\n",
        "Please remove me from this list. I never signed up and I don't want these emails.\n\nHal"
        + quote,
        want("not_bounce", vid=30000),
    )
    msg(
        "not_bounce/thanks_reply",
        f"From: Iris Holt <iris@homeisp.example>\nTo: {FROM}\nSubject: Re: Twelve recipes for a slow Sunday\nIn-Reply-To: <k0.20250212@mail.postino.example.com>\n",
        "Thanks! The lemon tart was a hit. Could you send the bread recipe in grams?\n" + quote,
        want("not_bounce"),
        charset="windows-1252",
        cte="quoted-printable",
    )
    msg(
        "not_bounce/mailman_held_nonmember",
        f"From: members-owner@lists.club.example\nTo: {FROM}\nSubject: Your message to Members awaits moderator approval\nPrecedence: bulk\nX-Mailman-Version: 2.1.39\n",
        "Your mail to 'Members' with the subject\n\n    Twelve recipes for a slow Sunday\n\nIs being held until the list moderator can review it for approval.\n\nThe reason it is being held:\n\n    Post by non-member to a members-only list\n\nEither the message will get posted to the list, or you will receive\nnotification of the moderator's decision.\n",
        want("not_bounce"),
        charset="us-ascii",
        cte="7bit",
    )
    msg(
        "not_bounce/outlook_read_text",
        f"From: Jo Wells <jo@corp.example>\nTo: {FROM}\nSubject: Read: Twelve recipes for a slow Sunday\n",
        "Your message\n\n  To: Jo Wells\n  Subject: Twelve recipes for a slow Sunday\n  Sent: Wednesday, 12 February 2025 18:40:09 (UTC+01:00)\n\nwas read on Wednesday, 12 February 2025 19:05:41 (UTC+01:00).\n",
        want("not_bounce"),
        eol="\r\n",
    )
    msg(
        "not_bounce/not_read_deleted",
        f"From: Kim Orr <kim@corp.example>\nTo: {FROM}\nSubject: Not read: Twelve recipes for a slow Sunday\n",
        "Your message\n\n  To: Kim Orr\n  Subject: Twelve recipes for a slow Sunday\n\nwas deleted without being read on Thursday, 13 February 2025 08:12:00 (UTC+01:00).\n",
        want("not_bounce"),
    )
    put(
        "not_bounce/mdn_displayed",
        f'From: Lea Nash <lea@homeisp.example>\nTo: {FROM}\nSubject: =?utf-8?Q?Lesebest=C3=A4tigung:_Twelve_recipes?=\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=disposition-notification;\n boundary="mdn_b2"\n\n--mdn_b2\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\nDies ist eine Lesebestätigung für Ihre Nachricht an lea@homeisp.example.\nHinweis: Die Lesebestätigung bedeutet nur, dass die Nachricht angezeigt wurde.\n\n--mdn_b2\nContent-Type: message/disposition-notification\n\nReporting-UA: homeisp.example; Thunderbird 128.7.0\nOriginal-Recipient: rfc822;lea@homeisp.example\nFinal-Recipient: rfc822;lea@homeisp.example\nOriginal-Message-ID: <k0.20250212@mail.postino.example.com>\nDisposition: manual-action/MDN-sent-manually; displayed\n\n--mdn_b2\nContent-Type: text/rfc822-headers\n\n'
        + orig("lea@homeisp.example", with_body=False)
        + "\n--mdn_b2--\n",
        want("not_bounce"),
    )
    put(
        "success/delivered_to_mailbox",
        report(
            human="This is the mail system at host smtp-out2.hosting.example.\n\nYour message was successfully delivered to the destination(s)\nlisted below. If the message was delivered to mailbox you will\nreceive no further notifications. Otherwise you may still receive\nnotifications of mail delivery errors from other systems.\n\n                   The mail system\n\n<max@recipient.example>: delivery via mx.recipient.example[203.0.113.25]:25: 250\n    2.0.0 Ok: queued as 4Yt9A10ZbCz1\n",
            fields=fields(
                "smtp-out2.hosting.example",
                rcpt_block(
                    "max@recipient.example",
                    "delivered",
                    "2.0.0",
                    "250 2.0.0 Ok: queued as 4Yt9A10ZbCz1",
                    remote="mx.recipient.example",
                ),
            ),
            returned=orig("max@recipient.example", 30001),
            subject="Successful Mail Delivery Report",
            frm="MAILER-DAEMON@smtp-out2.hosting.example (Mail Delivery System)",
        ),
        want("not_bounce", [r("max@recipient.example", "not_bounce", "2.0.0")], vid=30001),
    )
    put(
        "not_bounce/mailman_uncaught_bounce",
        'From: club-bounces@lists.club.example\nTo: club-owner@lists.club.example\nSubject: Uncaught bounce notification\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="mm_b2"\nPrecedence: bulk\nX-Mailman-Version: 2.1.39\n\n--mm_b2\nContent-Type: text/plain; charset=us-ascii\n\nThe attached message was received as a bounce, but either the bounce\nformat was not recognized, or no member addresses could be extracted\nfrom it.  This mailing list has been configured to send all\nunrecognized bounce messages to the list administrator(s).\n\n--mm_b2\nContent-Type: message/rfc822\n\nFrom: postmaster@far-away.example\nTo: club-bounces@lists.club.example\nSubject: Notice\n\nSomething about a member we could not read.\n\n--mm_b2--\n',
        want("not_bounce"),
    )


def samples() -> list[Sample]:
    if not _SAMPLES:
        for make in (
            postfix,
            exim,
            sendmail,
            qmail,
            exchange,
            gmail,
            yahoo_outlook_icloud,
            i18n,
            various,
            complaints,
            not_bounces,
        ):
            make()
    return list(_SAMPLES)


def write() -> None:
    print(f"wrote {write_samples(samples(), prefix='b2-')} b2 samples to {CORPUS}")


if __name__ == "__main__":
    write()
