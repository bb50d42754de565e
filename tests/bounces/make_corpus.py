# ruff: noqa: E501, RUF001, RUF005
"""Writes ``tests/bounces/corpus``: our own sample bounces and complaints.

``python tests/bounces/make_corpus.py`` regenerates every ``.eml`` file and
``expected.json``. The messages are written here by hand after the formats
that MTAs and providers send (the wording of their templates, our own
addresses, hosts and texts); the expectations next to each sample are what we
decided the parser must say, not its output. VERP tokens are made with the
test suite's SECRET_KEY, so ``verp_delivery_id`` only checks out under it.
Line endings (LF, CRLF, CR) and charsets vary on purpose.
"""

from __future__ import annotations

import base64
import json
import quopri
from typing import Any

from corpus_files import CORPUS, verp_token, write_samples

SENDER = "news@shop.example.com"
Expected = dict[str, Any]
SAMPLES: list[tuple[str, bytes, Expected]] = []


def verp(delivery_id: int) -> str:
    return f"bounces+{verp_token(delivery_id)}@bounce.shop.example.com"


def rcpt(email: str | None, kind: str, status: str | None = None) -> dict[str, Any]:
    return {"email": email, "kind": kind, "status": status}


def expect(
    kind: str,
    recipients: list[dict[str, Any]] | None = None,
    *,
    feedback_type: str | None = None,
    verp_delivery_id: int | None = None,
    campaign_id: int | None = None,
) -> Expected:
    result: Expected = {"kind": kind, "recipients": recipients or []}
    result["feedback_type"] = feedback_type
    if verp_delivery_id is not None:
        result["verp_delivery_id"] = verp_delivery_id
    if campaign_id is not None:
        result["campaign_id"] = campaign_id
    return result


def add(path: str, text: str, expected: Expected, *, eol: str = "\n", charset: str = "utf-8"):
    """Store a sample; ``text`` is written with LF and converted to ``eol``."""
    data = text.replace("\n", eol).encode(charset, "strict")
    SAMPLES.append((path, data, expected))


def original(
    to: str,
    *,
    delivery_id: int | None = None,
    campaign: int | None = None,
    subject: str = "Our spring collection is here",
    body: bool = True,
) -> str:
    lines = []
    if delivery_id is not None:
        lines.append(f"Return-Path: <{verp(delivery_id)}>")
    lines += [
        "Received: from mta2.shop.example.com (mta2.shop.example.com [198.51.100.20])",
        "\tby mx.receiver.example with ESMTPS id 4Xyz; Tue, 4 Mar 2025 09:12:01 +0000",
        f"From: Shop News <{SENDER}>",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Tue, 4 Mar 2025 09:11:58 +0000",
        f"Message-ID: <{delivery_id or 7}.c{campaign or 0}@shop.example.com>",
        "MIME-Version: 1.0",
        "List-Unsubscribe: <https://shop.example.com/u/abc>, <mailto:unsubscribe+abc@bounce.shop.example.com?subject=unsubscribe>",
    ]
    if campaign is not None:
        lines.append(f"Feedback-ID: {campaign}:campaign:postino")
        lines.append(f"X-Postino-Campaign: {campaign}")
    if delivery_id is not None:
        lines.append(f"X-Postino-Ref: {verp_token(delivery_id)}")
    lines.append("Content-Type: text/plain; charset=utf-8")
    text = "\n".join(lines) + "\n"
    if body:
        text += "\nHello!\n\nOur spring collection has arrived. Have a look at the shop.\n"
    return text


def dsn(
    *,
    reporting_mta: str,
    human: str,
    blocks: list[list[tuple[str, str]]],
    returned: str,
    headers_only: bool = False,
    from_: str = "MAILER-DAEMON@mx.receiver.example (Mail Delivery System)",
    to: str = SENDER,
    subject: str = "Undelivered Mail Returned to Sender",
    extra_headers: str = "",
    human_charset: str = "us-ascii",
    human_cte: str = "7bit",
    dsn_cte: str = "7bit",
    boundary: str = "B0UND4RY.1741079521/mx.receiver.example",
) -> str:
    if human_cte == "base64":
        human_body = base64.encodebytes(human.encode(human_charset)).decode()
    elif human_cte == "quoted-printable":
        human_body = quopri.encodestring(human.encode(human_charset)).decode("ascii")
    else:
        human_body = human
    status_text = (
        f"Reporting-MTA: dns; {reporting_mta}\nArrival-Date: Tue, 4 Mar 2025 09:12:01 +0000\n"
    )
    for block in blocks:
        status_text += "\n" + "\n".join(f"{k}: {v}" for k, v in block) + "\n"
    if dsn_cte == "base64":
        status_body = base64.encodebytes(status_text.encode()).decode()
    else:
        status_body = status_text
    returned_type = "text/rfc822-headers" if headers_only else "message/rfc822"
    return (
        f"Return-Path: <>\n"
        f"Received: by {reporting_mta} (Postfix)\n\tid 9F1C2; Tue, 4 Mar 2025 09:12:02 +0000 (UTC)\n"
        f"Date: Tue, 4 Mar 2025 09:12:02 +0000 (UTC)\n"
        f"From: {from_}\n"
        f"To: {to}\n"
        f"Subject: {subject}\n"
        f"Auto-Submitted: auto-replied\n"
        f"{extra_headers}"
        f"MIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n'
        f"\nThis is a MIME-encapsulated message.\n\n"
        f"--{boundary}\n"
        f"Content-Description: Notification\n"
        f"Content-Type: text/plain; charset={human_charset}\n"
        f"Content-Transfer-Encoding: {human_cte}\n\n"
        f"{human_body}\n"
        f"--{boundary}\n"
        f"Content-Description: Delivery report\n"
        f"Content-Type: message/delivery-status\n"
        + (f"Content-Transfer-Encoding: {dsn_cte}\n" if dsn_cte != "7bit" else "")
        + f"\n{status_body}\n"
        f"--{boundary}\n"
        f"Content-Description: Undelivered Message\n"
        f"Content-Type: {returned_type}\n\n"
        f"{returned}\n"
        f"--{boundary}--\n"
    )


def block(
    email: str,
    action: str,
    status: str,
    diagnostic: str | None = None,
    *,
    original_rcpt: str | None = None,
    remote: str | None = "mx.receiver.example",
    final_prefix: str = "rfc822; ",
) -> list[tuple[str, str]]:
    fields = []
    if original_rcpt:
        fields.append(("Original-Recipient", f"rfc822;{original_rcpt}"))
    fields.append(("Final-Recipient", f"{final_prefix}{email}"))
    fields.append(("Action", action))
    fields.append(("Status", status))
    if remote:
        fields.append(("Remote-MTA", f"dns; {remote}"))
    if diagnostic:
        fields.append(("Diagnostic-Code", f"smtp; {diagnostic}"))
    return fields


POSTFIX_HUMAN = """This is the mail system at host {host}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{email}>: host {remote}[203.0.113.5] said: {reply} (in reply to RCPT TO
    command)
"""


def postfix_samples() -> None:
    cases = [
        (
            "user_unknown",
            "ana.lima@receiver.example",
            "5.1.1",
            "550 5.1.1 <ana.lima@receiver.example>: Recipient address rejected: User unknown in virtual mailbox table",
            "hard",
            "\n",
        ),
        (
            "mailbox_full",
            "bo@receiver.example",
            "5.2.2",
            "552 5.2.2 <bo@receiver.example>: Recipient address rejected: Mailbox full",
            "soft",
            "\r\n",
        ),
        (
            "spam_block",
            "carla@receiver.example",
            "5.7.1",
            "550 5.7.1 Message rejected as spam by Content Filtering",
            "soft",
            "\n",
        ),
        (
            "rbl",
            "dan@receiver.example",
            "5.7.1",
            "554 5.7.1 Service unavailable; Client host [198.51.100.20] blocked using zen.spamhaus.org",
            "soft",
            "\r",
        ),
        (
            "relay_denied",
            "eve@receiver.example",
            "5.7.1",
            "554 5.7.1 <eve@receiver.example>: Relay access denied",
            "soft",
            "\n",
        ),
        (
            "greylisted_expired",
            "fritz@receiver.example",
            "4.2.0",
            "450 4.2.0 <fritz@receiver.example>: Recipient address rejected: Greylisted, see http://postgrey.example/",
            "soft",
            "\n",
        ),
        (
            "too_large",
            "gina@receiver.example",
            "5.3.4",
            "552 5.3.4 Message size exceeds fixed limit",
            "soft",
            "\r\n",
        ),
        (
            "access_denied",
            "hugo@receiver.example",
            "5.7.1",
            "554 5.7.1 <hugo@receiver.example>: Recipient address rejected: Access denied",
            "soft",
            "\n",
        ),
        (
            "status_generic_text_unknown",
            "ines@receiver.example",
            "5.0.0",
            "550 <ines@receiver.example>... No such user here",
            "hard",
            "\n",
        ),
        (
            "disabled",
            "jon@receiver.example",
            "5.2.1",
            "550 5.2.1 <jon@receiver.example>: Recipient address rejected: account disabled",
            "hard",
            "\n",
        ),
    ]
    for index, (name, email, status, reply, kind, eol) in enumerate(cases):
        delivery_id = 1000 + index
        expected_status = status
        if name == "status_generic_text_unknown":
            # Status: 5.0.0 says only "failed"; the reply says no such user.
            expected_status = "5.1.1"
        add(
            f"postfix/{name}.eml",
            dsn(
                reporting_mta="mail.shop.example.com",
                to=verp(delivery_id),
                human=POSTFIX_HUMAN.format(
                    host="mail.shop.example.com",
                    email=email,
                    remote="mx.receiver.example",
                    reply=reply,
                ),
                blocks=[block(email, "failed", status, reply)],
                returned=original(email, delivery_id=delivery_id, campaign=42),
                headers_only=index % 2 == 1,
            ),
            expect(
                kind,
                [rcpt(email, kind, expected_status)],
                verp_delivery_id=delivery_id,
                campaign_id=42,
            ),
            eol=eol,
        )
    # Host not found (our side never reached a server).
    add(
        "postfix/host_not_found.eml",
        dsn(
            reporting_mta="mail.shop.example.com",
            human=POSTFIX_HUMAN.format(
                host="mail.shop.example.com",
                email="kim@no-such-domain.example",
                remote="-",
                reply="x",
            ).replace(
                "host -[203.0.113.5] said: x (in reply to RCPT TO\n    command)",
                "Host or domain name not found. Name service error for\n    name=no-such-domain.example type=A: Host not found",
            ),
            blocks=[
                block("kim@no-such-domain.example", "failed", "5.4.4", None, remote=None)
                + [
                    (
                        "Diagnostic-Code",
                        "X-Postfix; Host or domain name not found. Name service error for name=no-such-domain.example type=A: Host not found",
                    )
                ]
            ],
            returned=original("kim@no-such-domain.example", delivery_id=1101),
        ),
        expect(
            "hard", [rcpt("kim@no-such-domain.example", "hard", "5.4.4")], verp_delivery_id=1101
        ),
    )
    add(
        "postfix/dns_temp_expired.eml",
        dsn(
            reporting_mta="mail.shop.example.com",
            human="This is the mail system at host mail.shop.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<lea@flaky.example>: Host or domain name not found. Name service error for\n    name=flaky.example type=MX: Host not found, try again\n",
            blocks=[
                [
                    ("Final-Recipient", "rfc822; lea@flaky.example"),
                    ("Action", "failed"),
                    ("Status", "4.4.3"),
                    (
                        "Diagnostic-Code",
                        "X-Postfix; Host or domain name not found. Name service error for\n    name=flaky.example type=MX: Host not found, try again",
                    ),
                ]
            ],
            returned=original("lea@flaky.example", delivery_id=1102),
        ),
        expect("soft", [rcpt("lea@flaky.example", "soft", "4.4.3")], verp_delivery_id=1102),
        eol="\r\n",
    )
    # Two recipients, two outcomes, one with Original-Recipient (an alias).
    add(
        "postfix/two_recipients.eml",
        dsn(
            reporting_mta="mail.shop.example.com",
            human="This is the mail system at host mail.shop.example.com.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<max@receiver.example>: host mx.receiver.example said: 550 5.1.1 User unknown\n<nina@receiver.example>: host mx.receiver.example said: 452 4.2.2 Over quota\n",
            blocks=[
                block(
                    "max@receiver.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 User unknown",
                    original_rcpt="Max@Receiver.example",
                ),
                block(
                    "nina@receiver.example",
                    "failed",
                    "4.2.2",
                    "452 4.2.2 Over quota",
                    final_prefix="RFC822;",
                ),
            ],
            returned=original("max@receiver.example, nina@receiver.example"),
            headers_only=True,
        ),
        expect(
            "hard",
            [
                rcpt("max@receiver.example", "hard", "5.1.1"),
                rcpt("nina@receiver.example", "soft", "4.2.2"),
            ],
        ),
    )


def gmail_samples() -> None:
    human = (
        "\n** Address not found **\n\nYour message wasn't delivered to {email} because the address couldn't be found, "
        "or is unable to receive mail.\n\nLearn more here: https://support.google.com/mail/?p=NoSuchUser\n\n"
        "The response was:\n\n{reply}\n"
    )
    cases = [
        (
            "no_such_user",
            "oscar.x@gmail.com",
            "5.1.1",
            "550 5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser a1si123 - gsmtp",
            "hard",
        ),
        (
            "over_quota",
            "paula.y@gmail.com",
            "5.2.2",
            "552 5.2.2 The email account that you tried to reach is over quota and inactive. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaPerm b2si456 - gsmtp",
            "soft",
        ),
        (
            "disabled",
            "quinn.z@gmail.com",
            "5.2.1",
            "550 5.2.1 The email account that you tried to reach is disabled. https://support.google.com/mail/?p=DisabledUser c3si789 - gsmtp",
            "hard",
        ),
        (
            "unsolicited",
            "rita@gmail.com",
            "5.7.1",
            "550 5.7.1 [198.51.100.20] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. https://support.google.com/mail/?p=UnsolicitedMessageError d4si - gsmtp",
            "soft",
        ),
        (
            "dmarc",
            "sam@gmail.com",
            "5.7.26",
            "550 5.7.26 Unauthenticated email from shop.example.com is not accepted due to domain's DMARC policy. Please contact the administrator of shop.example.com domain. - gsmtp",
            "soft",
        ),
    ]
    for index, (name, email, status, reply, kind) in enumerate(cases):
        delivery_id = 2000 + index
        body = human.format(email=email, reply=reply.replace(" https", "\n https"))
        add(
            f"gmail/{name}.eml",
            dsn(
                reporting_mta="googlemail.com",
                from_="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
                to=SENDER,
                subject="Delivery Status Notification (Failure)",
                human=body,
                human_charset="UTF-8",
                human_cte="quoted-printable" if index % 2 else "base64",
                blocks=[
                    block(
                        email,
                        "failed",
                        status,
                        reply.replace(f"{status[0]}50 {status}", f"{reply[:3]}-{status}"),
                        remote="gmail-smtp-in.l.google.com",
                    )
                ],
                returned=original(email, delivery_id=delivery_id, campaign=7),
                boundary="000000000000abcdef0123456789",
            ),
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id, campaign_id=7),
            eol="\r\n",
        )
    # Gmail's delay DSN.
    add(
        "gmail/delay.eml",
        dsn(
            reporting_mta="googlemail.com",
            from_="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
            subject="Delivery Status Notification (Delay)",
            human="\n** Delivery incomplete **\n\nThere was a temporary problem delivering your message to tom@slow.example. Gmail will retry for 46 more hours. You'll be notified if the delivery fails permanently.\n\nThe response was:\n\nThe recipient server did not accept our requests to connect.\n",
            blocks=[
                [
                    ("Final-Recipient", "rfc822; tom@slow.example"),
                    ("Action", "delayed"),
                    ("Status", "4.4.1"),
                    (
                        "Diagnostic-Code",
                        "smtp; The recipient server did not accept our requests to connect.",
                    ),
                    ("Last-Attempt-Date", "Tue, 04 Mar 2025 11:00:00 -0800 (PST)"),
                    ("Will-Retry-Until", "Thu, 06 Mar 2025 09:00:00 -0800 (PST)"),
                ]
            ],
            returned=original("tom@slow.example", delivery_id=2101),
            headers_only=True,
        ),
        expect("delay", [rcpt("tom@slow.example", "delay", "4.4.1")], verp_delivery_id=2101),
    )


EXIM_HEAD = """This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

"""


def exim_samples() -> None:
    cases = [
        (
            "rcpt_550",
            "uma@receiver.example",
            "  uma@receiver.example\n    host mx.receiver.example [203.0.113.9]\n    SMTP error from remote mail server after RCPT TO:<uma@receiver.example>:\n    550 5.1.1 <uma@receiver.example>: Recipient address rejected: User unknown in local recipient table\n",
            "hard",
            "5.1.1",
        ),
        (
            "mailbox_full_local",
            "vic@shop-local.example",
            "  vic@shop-local.example\n    mailbox is full: retry timeout exceeded\n",
            "soft",
            "5.2.2",
        ),
        (
            "unrouteable",
            "walt@gone.example",
            "  walt@gone.example\n    Unrouteable address\n",
            "hard",
            "5.1.2",
        ),
        (
            "no_code_unknown",
            "xena@receiver.example",
            "  xena@receiver.example\n    SMTP error from remote mail server after RCPT TO:<xena@receiver.example>:\n    host mx.receiver.example [203.0.113.9]: 550 Unknown user\n",
            "hard",
            "5.1.1",
        ),
        (
            "retry_timeout",
            "yann@down.example",
            "  yann@down.example\n    retry timeout exceeded\n",
            "soft",
            "4.4.7",
        ),
        (
            "rate_limited",
            "zoe@receiver.example",
            "  zoe@receiver.example\n    host mx.receiver.example [203.0.113.9]\n    SMTP error from remote mail server after end of data:\n    421 4.7.0 Too many messages from your IP, try again later\n",
            "soft",
            "4.7.0",
        ),
    ]
    for index, (name, email, detail, kind, status) in enumerate(cases):
        delivery_id = 3000 + index
        text = (
            f"Return-path: <>\nEnvelope-to: {verp(delivery_id)}\nDelivery-date: Tue, 04 Mar 2025 09:12:03 +0000\n"
            f"Received: from Debian-exim by mail.shop.example.com with local (Exim 4.96)\n\tid 1tpQ3v-000ABC-2x\n"
            f"X-Failed-Recipients: {email}\nAuto-Submitted: auto-replied\n"
            f"From: Mail Delivery System <Mailer-Daemon@mail.shop.example.com>\nTo: {verp(delivery_id)}\n"
            f"References: <{delivery_id}.c9@shop.example.com>\nContent-Type: text/plain; charset=us-ascii\n"
            f"Subject: Mail delivery failed: returning message to sender\nMessage-Id: <E1tpQ3v@mail.shop.example.com>\n"
            f"Date: Tue, 04 Mar 2025 09:12:03 +0000\n\n"
            + EXIM_HEAD
            + detail
            + "\n------ This is a copy of the message, including all the headers. ------\n\n"
            + original(email, delivery_id=delivery_id, campaign=9)
        )
        status_expected = status
        add(
            f"exim/{name}.eml",
            text,
            expect(
                kind,
                [rcpt(email, kind, status_expected)],
                verp_delivery_id=delivery_id,
                campaign_id=9,
            ),
            eol="\r" if index == 2 else "\n",
        )
    # Exim delay warning.
    add(
        "exim/delay_warning.eml",
        "Return-path: <>\nX-Failed-Recipients: \nAuto-Submitted: auto-replied\nFrom: Mail Delivery System <Mailer-Daemon@mail.shop.example.com>\n"
        f"To: {verp(3100)}\nSubject: Warning: message 1tpQ3v-000ABC-2x delayed 24 hours\n\n"
        "This message was created automatically by mail delivery software.\n\nA message that you sent has not yet been delivered to one or more of its\n"
        "recipients after more than 24 hours on the queue on mail.shop.example.com.\n\n"
        "The message identifier is:     1tpQ3v-000ABC-2x\nThe subject of the message is: Our spring collection is here\n\n"
        "The address to which the message has not yet been delivered is:\n\n  amy@slow.example\n    host mx.slow.example [203.0.113.77]\n    Delay reason: SMTP error from remote mail server after RCPT TO:<amy@slow.example>:\n    451 4.3.0 Mailbox temporarily unavailable\n\n"
        "No action is required on your part. Delivery attempts will continue for\nsome time, and this warning may be repeated at intervals if the message\nremains undelivered. Eventually the mail delivery software will give up,\nand when that happens, the message will be returned to you.\n",
        expect("delay", [rcpt("amy@slow.example", "delay", "4.3.0")], verp_delivery_id=3100),
    )


def sendmail_samples() -> None:
    for index, (name, email, reason, kind, status) in enumerate(
        [
            (
                "user_unknown",
                "bert@receiver.example",
                "550 5.1.1 <bert@receiver.example>... User unknown",
                "hard",
                "5.1.1",
            ),
            (
                "quota",
                "cleo@receiver.example",
                "552 5.2.2 <cleo@receiver.example>... Mailbox full",
                "soft",
                "5.2.2",
            ),
            (
                "no_enhanced",
                "dora@receiver.example",
                "550 <dora@receiver.example>... Recipient rejected",
                "hard",
                "5.1.1",
            ),
        ]
    ):
        delivery_id = 4000 + index
        text = (
            "Return-Path: <MAILER-DAEMON>\nFrom: Mail Delivery Subsystem <MAILER-DAEMON@relay.receiver.example>\n"
            f"To: <{verp(delivery_id)}>\nSubject: Returned mail: see transcript for details\nAuto-Submitted: auto-generated (failure)\n"
            "Content-Type: text/plain; charset=us-ascii\n\n"
            "The original message was received at Tue, 4 Mar 2025 09:12:01 GMT\nfrom mta2.shop.example.com [198.51.100.20]\n\n"
            f"   ----- The following addresses had permanent fatal errors -----\n<{email}>\n    (reason: {reason})\n\n"
            f"   ----- Transcript of session follows -----\n... while talking to mx.receiver.example.:\n>>> DATA\n<<< {reason}\n{reason[:3]} {email}... {reason.split('... ')[-1]}\n<<< 503 5.0.0 Need RCPT (recipient)\n\n"
            "   ----- Original message follows -----\n\n" + original(email, delivery_id=delivery_id)
        )
        add(
            f"sendmail/{name}.eml",
            text,
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id),
            eol="\r\n",
        )
    # Sendmail's 4-hour warning.
    add(
        "sendmail/warning_4h.eml",
        "From: Mail Delivery Subsystem <MAILER-DAEMON@relay.receiver.example>\nTo: <news@shop.example.com>\n"
        "Subject: Warning: could not send message for past 4 hours\nAuto-Submitted: auto-generated (warning-timeout)\n\n"
        "    **********************************************\n    **      THIS IS A WARNING MESSAGE ONLY      **\n    **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n    **********************************************\n\n"
        "The original message was received at Tue, 4 Mar 2025 09:12:01 GMT\n\n   ----- Transcript of session follows -----\n"
        "<emil@slow.example>... Deferred: Connection timed out with mx.slow.example.\nWarning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n",
        expect("delay", [rcpt("emil@slow.example", "delay", "4.4.1")]),
    )


def qmail_samples() -> None:
    cases = [
        (
            "no_mailbox",
            "finn@receiver.example",
            "Sorry, no mailbox here by that name. (#5.1.1)",
            "hard",
            "5.1.1",
        ),
        (
            "remote_550",
            "greta@receiver.example",
            "203.0.113.5 does not like recipient.\nRemote host said: 550 5.1.1 <greta@receiver.example>: Recipient address rejected: User unknown\nGiving up on 203.0.113.5.",
            "hard",
            "5.1.1",
        ),
        (
            "over_quota",
            "hans@receiver.example",
            "The users mailfolder is over the allowed quota (size). (#5.2.2)",
            "soft",
            "5.2.2",
        ),
        (
            "yahoo_dd",
            "ivy_q@yahoo.com",
            "67.195.204.72 does not like recipient.\nRemote host said: 554 delivery error: dd This user doesn't have a yahoo.com account (ivy_q@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com\nGiving up on 67.195.204.72.",
            "hard",
            "5.1.1",
        ),
    ]
    for index, (name, email, why, kind, status) in enumerate(cases):
        delivery_id = 5000 + index
        text = (
            f"Return-Path: <>\nDelivered-To: {verp(delivery_id)}\nFrom: MAILER-DAEMON@mx.receiver.example\nTo: {verp(delivery_id)}\n"
            "Subject: failure notice\n\n"
            "Hi. This is the qmail-send program at mx.receiver.example.\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
            "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
            f"<{email}>:\n{why}\n\n--- Below this line is a copy of the message.\n\n"
            + original(email, delivery_id=delivery_id)
        )
        add(
            f"qmail/{name}.eml",
            text,
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id),
            eol="\n",
        )


def exchange_samples() -> None:
    # Office 365 NDR: HTML and text human parts, DSN with RESOLVER codes.
    cases = [
        (
            "recip_not_found",
            "jack@contoso.example",
            "5.1.10",
            "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "hard",
        ),
        (
            "remote_5_1_1",
            "kate@fabrikam.example",
            "5.1.1",
            "Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'",
            "hard",
        ),
        (
            "dbeb",
            "leo@contoso.example",
            "5.4.1",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281) [AM0PR01MB1234.eurprd01.prod.exchangelabs.com]",
            "hard",
        ),
        (
            "mailbox_full",
            "mia@contoso.example",
            "5.2.2",
            "554 5.2.2 mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded",
            "soft",
        ),
        (
            "auth_required",
            "ned@contoso.example",
            "5.7.1",
            "550 5.7.1 RESOLVER.RST.AuthRequired; authentication required [Stage: CreateMessage]",
            "soft",
        ),
        (
            "blocklist",
            "olga@contoso.example",
            "5.7.1",
            "550 5.7.1 Unfortunately, messages from [198.51.100.20] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150).",
            "soft",
        ),
    ]
    for index, (name, email, status, diag, kind) in enumerate(cases):
        delivery_id = 6000 + index
        human = (
            "Your message to "
            + email
            + " couldn't be delivered.\n\n"
            + (
                "The email address couldn't be found."
                if kind == "hard"
                else "The message was rejected."
            )
            + "\n\nDiagnostic information for administrators:\n\nGenerating server: AM0PR01MB1234.eurprd01.prod.exchangelabs.com\n\n"
            + email
            + "\nRemote Server returned '"
            + diag
            + "'\n"
        )
        add(
            f"exchange/{name}.eml",
            dsn(
                reporting_mta="AM0PR01MB1234.eurprd01.prod.exchangelabs.com",
                from_="Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso.example>",
                to=f"<{verp(delivery_id)}>",
                subject="Undeliverable: Our spring collection is here",
                extra_headers="X-MS-Exchange-Message-Is-Ndr: \nContent-Language: en-US\n",
                human=human,
                human_charset="utf-8",
                human_cte="quoted-printable",
                blocks=[
                    block(
                        email,
                        "failed",
                        status,
                        diag.replace("Remote Server returned '", "").rstrip("'"),
                        remote=None,
                    )
                    + [("X-Display-Name", email.split("@")[0].title())]
                ],
                returned=original(email, delivery_id=delivery_id, body=False),
                headers_only=True,
                boundary="_000_AM0PR01MB1234_",
            ),
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id),
            eol="\r\n",
        )
    # Exchange 2003-era plain text NDR, no address in the text, only display name.
    add(
        "exchange/legacy_2003_text.eml",
        "From: System Administrator <postmaster@fabrikam.example>\nTo: news@shop.example.com\nSubject: Undeliverable: Our spring collection is here\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="----_=_NextPart_001"\n\n------_=_NextPart_001\nContent-Type: text/plain; charset="iso-8859-1"\n\n'
        "Your message did not reach some or all of the intended recipients.\n\n      Subject:\tOur spring collection is here\n      Sent:\t04/03/2025 09:12\n\n"
        "The following recipient(s) cannot be reached:\n\n      'Paul Dupont' on 04/03/2025 09:12\n            The e-mail account does not exist at the organization this message was sent to.  Check the e-mail address, or contact the recipient directly to find out the correct address.\n            <mail.fabrikam.example #5.1.1>\n\n"
        "------_=_NextPart_001\nContent-Type: message/rfc822\n\n"
        + original("Paul Dupont <paul.dupont@fabrikam.example>", delivery_id=6100)
        + "\n------_=_NextPart_001--\n",
        expect(
            "hard", [rcpt("paul.dupont@fabrikam.example", "hard", "5.1.1")], verp_delivery_id=6100
        ),
        eol="\r\n",
        charset="latin-1",
    )
    # Exchange 2010 text-only NDR (no DSN part).
    add(
        "exchange/2010_text_only.eml",
        f"From: Microsoft Exchange <postmaster@northwind.example>\nTo: {verp(6101)}\nSubject: Undeliverable: Spring\nContent-Type: text/plain; charset=utf-8\n\n"
        "Delivery has failed to these recipients or groups:\n\nrosa@northwind.example\nThe e-mail address you entered couldn't be found. Please check the recipient's e-mail address and try to resend the message. If the problem continues, please contact your helpdesk.\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: EX01.northwind.local\n\nrosa@northwind.example\n#550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##\n\nOriginal message headers:\n\n"
        + original("rosa@northwind.example", delivery_id=6101, body=False),
        expect("hard", [rcpt("rosa@northwind.example", "hard", "5.1.1")], verp_delivery_id=6101),
    )


def outlook_com_samples() -> None:
    cases = [
        (
            "mailbox_unavailable",
            "sven_1999@hotmail.com",
            "5.5.0",
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [BN1NAM02FT012.eop-nam02.prod.protection.outlook.com]",
            "hard",
        ),
        (
            "blocked_ip",
            "tina_x@outlook.com",
            "5.7.1",
            "550 5.7.1 Unfortunately, messages from [198.51.100.20] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3140).",
            "soft",
        ),
        (
            "rate_limited",
            "ugo@live.com",
            "4.7.650",
            "451 4.7.650 The mail server [198.51.100.20] has been temporarily rate limited due to IP reputation.",
            "soft",
        ),
    ]
    for index, (name, email, status, diag, kind) in enumerate(cases):
        delivery_id = 6500 + index
        add(
            f"outlook_com/{name}.eml",
            dsn(
                reporting_mta="mail.shop.example.com",
                human=POSTFIX_HUMAN.format(
                    host="mail.shop.example.com",
                    email=email,
                    remote="hotmail-com.olc.protection.outlook.com",
                    reply=diag,
                ),
                blocks=[
                    block(
                        email,
                        "failed",
                        status,
                        diag,
                        remote="hotmail-com.olc.protection.outlook.com",
                    )
                ],
                returned=original(email, delivery_id=delivery_id, campaign=12),
            ),
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id, campaign_id=12),
            eol="\n" if index else "\r",
        )


def yahoo_samples() -> None:
    for index, (name, email, why, kind, status) in enumerate(
        [
            (
                "no_account",
                "vera_k@yahoo.com",
                "554: delivery error: dd This user doesn't have a yahoo.com account (vera_k@yahoo.com) [0] - mta4012.mail.bf1.yahoo.com",
                "hard",
                "5.1.1",
            ),
            (
                "disabled",
                "walter_k@yahoo.com",
                "554: delivery error: dd Sorry your message to walter_k@yahoo.com cannot be delivered. This mailbox is disabled (554.30). - mta4012.mail.bf1.yahoo.com",
                "hard",
                "5.2.1",
            ),
            (
                "tss04",
                "xia_k@yahoo.com",
                "421 4.7.0 [TSS04] Messages from 198.51.100.20 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
                "soft",
                "4.7.0",
            ),
        ]
    ):
        delivery_id = 7000 + index
        text = (
            f"From: MAILER-DAEMON@yahoo.com\nTo: {verp(delivery_id)}\nSubject: Failure Notice\nContent-Type: text/plain; charset=us-ascii\n\n"
            "Sorry, we were unable to deliver your message to the following address.\n\n"
            f"<{email}>:\n{why}\n\n--- Below this line is a copy of the message.\n\n"
            + original(email, delivery_id=delivery_id)
        )
        add(
            f"yahoo/{name}.eml",
            text,
            expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id),
            eol="\r\n",
        )


def ses_samples() -> None:
    bounce = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "bouncedRecipients": [
                {
                    "emailAddress": "yusuf@receiver.example",
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": "smtp; 550 5.1.1 user unknown",
                }
            ],
            "timestamp": "2025-03-04T09:12:04.000Z",
            "feedbackId": "0100018f-aaaa-bbbb",
            "reportingMTA": "dsn; a8-12.smtp-out.amazonses.com",
        },
        "mail": {
            "timestamp": "2025-03-04T09:12:01.000Z",
            "source": SENDER,
            "messageId": "0100018f-1111-2222",
            "destination": ["yusuf@receiver.example"],
        },
    }
    add(
        "ses/bounce_notification.eml",
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: ops@shop.example.com\nSubject: AWS Notification Message\nContent-Type: text/plain; charset=UTF-8\n\n"
        + json.dumps(bounce)
        + "\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit the link below to unsubscribe:\nhttps://sns.us-east-1.amazonaws.com/unsubscribe.html\n",
        expect("hard", [rcpt("yusuf@receiver.example", "hard", "5.1.1")]),
    )
    transient = json.loads(json.dumps(bounce))
    transient["bounce"].update({"bounceType": "Transient", "bounceSubType": "MailboxFull"})
    transient["bounce"]["bouncedRecipients"] = [
        {
            "emailAddress": "zara@receiver.example",
            "action": "failed",
            "status": "5.2.2",
            "diagnosticCode": "smtp; 552 5.2.2 Mailbox full",
        }
    ]
    add(
        "ses/transient_mailbox_full.eml",
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: ops@shop.example.com\nSubject: AWS Notification Message\nContent-Type: text/plain; charset=UTF-8\n\n"
        + json.dumps(transient, indent=2),
        expect("soft", [rcpt("zara@receiver.example", "soft", "5.2.2")]),
        eol="\r\n",
    )
    complaint = {
        "notificationType": "Complaint",
        "complaint": {
            "complainedRecipients": [{"emailAddress": "abel@receiver.example"}],
            "complaintFeedbackType": "abuse",
            "userAgent": "Yahoo!-Mail-Feedback/2.0",
        },
        "mail": {"messageId": "0100018f-3333", "source": SENDER},
    }
    add(
        "ses/complaint_notification.eml",
        "From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: ops@shop.example.com\nSubject: AWS Notification Message\n\n"
        + json.dumps(complaint),
        expect(
            "complaint", [rcpt("abel@receiver.example", "complaint", None)], feedback_type="abuse"
        ),
    )
    # A DSN that SES's MTA generated for a message we relayed through it.
    add(
        "ses/amazonses_dsn.eml",
        dsn(
            reporting_mta="a8-12.smtp-out.amazonses.com",
            from_="MAILER-DAEMON@amazonses.com",
            subject="Delivery Status Notification (Failure)",
            human="An error occurred while trying to deliver the mail to the following recipients:\nbea@receiver.example\n",
            blocks=[
                block(
                    "bea@receiver.example",
                    "failed",
                    "5.1.1",
                    "550 5.1.1 <bea@receiver.example>: Recipient address rejected: User unknown in virtual alias table",
                    remote="mx.receiver.example",
                )
            ],
            returned=original("bea@receiver.example", delivery_id=7500),
            headers_only=True,
        ),
        expect("hard", [rcpt("bea@receiver.example", "hard", "5.1.1")], verp_delivery_id=7500),
    )


def google_groups_samples() -> None:
    add(
        "google_groups/group_may_not_exist.eml",
        f"Return-Path: <>\nFrom: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\nTo: {verp(7600)}\nX-Failed-Recipients: announce@googlegroups.com\n"
        "Subject: Delivery Status Notification (Failure)\nAuto-Submitted: auto-replied\nContent-Type: text/plain; charset=UTF-8\n\n"
        "Hello news@shop.example.com,\n\nWe're writing to let you know that the group you tried to contact (announce) may not exist, or you may not have permission to post messages to the group. A few more details on why you weren't able to post:\n\n"
        " * You might have spelled or formatted the group name incorrectly.\n * The owner of the group may have removed this group.\n * You may need to join the group before receiving permission to post.\n * This group may not be open to posting.\n\n"
        "If you have questions related to this or any other Google Group, visit the Help Center at https://groups.google.com/support/.\n\nThanks,\n\nGoogle Groups\n\n----- Original message -----\n\n"
        + original("announce@googlegroups.com", delivery_id=7600),
        expect("hard", [rcpt("announce@googlegroups.com", "hard", "5.1.1")], verp_delivery_id=7600),
    )


def domino_groupwise_samples() -> None:
    add(
        "domino/not_listed.eml",
        f"From: Postmaster <postmaster@acme-domino.example>\nTo: {verp(7700)}\nSubject: DELIVERY FAILURE: User carl.b (carl.b@acme-domino.example) not listed in Domino Directory\n"
        'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="=_mixed 0042"\n\n--=_mixed 0042\nContent-Type: text/plain; charset="US-ASCII"\n\n'
        "Your message\n\n  Subject: Our spring collection is here\n\nwas not delivered to:\n\n  carl.b@acme-domino.example\n\nbecause:\n\n  User carl.b (carl.b@acme-domino.example) not listed in Domino Directory\n\n"
        "--=_mixed 0042\nContent-Type: message/rfc822\n\n"
        + original("carl.b@acme-domino.example", delivery_id=7700)
        + "\n--=_mixed 0042--\n",
        expect(
            "hard", [rcpt("carl.b@acme-domino.example", "hard", "5.1.1")], verp_delivery_id=7700
        ),
        eol="\r\n",
    )
    add(
        "domino/mail_file_full.eml",
        "From: Postmaster <postmaster@acme-domino.example>\nTo: news@shop.example.com\nSubject: DELIVERY FAILURE: Unable to deliver message: mail file is full\n"
        "Content-Type: text/plain\n\nYour message\n\n  Subject: Our spring collection is here\n\nwas not delivered to:\n\n  dina.c@acme-domino.example\n\nbecause:\n\n  Unable to deliver message: recipient's mailbox is full (quota exceeded)\n",
        expect("soft", [rcpt("dina.c@acme-domino.example", "soft", "5.2.2")]),
    )
    add(
        "groupwise/user_unknown.eml",
        f"From: Mail Delivery System <postmaster@gw.initech.example>\nTo: {verp(7800)}\nSubject: Undeliverable mail\nContent-Type: text/plain\n\n"
        "The message that you sent was undeliverable to the following:\n\tfred.h@initech.example (user unknown)\n\n"
        "Possible causes:\n\tThe e-mail address was incorrect\n\tThe user is no longer on the system\n\n"
        "----- Original message -----\n" + original("fred.h@initech.example", delivery_id=7800),
        expect("hard", [rcpt("fred.h@initech.example", "hard", "5.1.1")], verp_delivery_id=7800),
        eol="\r",
    )
    add(
        "groupwise/mailbox_full.eml",
        "From: postmaster@gw.initech.example\nTo: news@shop.example.com\nSubject: Undeliverable mail\n\n"
        "The message that you sent was undeliverable to the following:\n\tgail.h@initech.example (mailbox full)\n",
        expect("soft", [rcpt("gail.h@initech.example", "soft", "5.2.2")]),
    )


# (language, charset, subject, body template with {email}, {reason}, reasons...)
I18N = [
    (
        "de",
        "iso-8859-1",
        "Unzustellbar: Frühlingsangebote",
        "Ihre Nachricht konnte nicht zugestellt werden an:\n\n  {email}\n\nGrund: {reason}\n",
        "Der Empfänger ist unbekannt.",
        "Das Postfach des Empfängers ist voll.",
    ),
    (
        "fr",
        "windows-1252",
        "Non remis : Nouveautés de printemps",
        "Votre message n'a pas pu être remis aux destinataires suivants :\n\n  {email}\n\nRaison : {reason}\n",
        "Destinataire inconnu, l'adresse n'existe pas.",
        "La boîte aux lettres du destinataire est pleine.",
    ),
    (
        "es",
        "iso-8859-1",
        "No se puede entregar: Novedades",
        "Su mensaje no se ha podido entregar a los siguientes destinatarios:\n\n  {email}\n\nMotivo: {reason}\n",
        "El usuario no existe en este dominio.",
        "El buzón del destinatario está lleno.",
    ),
    (
        "it",
        "iso-8859-15",
        "Messaggio non recapitabile: Novità",
        "Non è stato possibile recapitare il messaggio ai seguenti destinatari:\n\n  {email}\n\nMotivo: {reason}\n",
        "Utente sconosciuto, l'indirizzo non esiste.",
        "La casella di posta è piena.",
    ),
    (
        "pt",
        "iso-8859-1",
        "Mensagem não entregue: Novidades",
        "A sua mensagem não pôde ser entregue aos seguintes destinatários:\n\n  {email}\n\nMotivo: {reason}\n",
        "Usuário desconhecido.",
        "A caixa postal do destinatário está cheia.",
    ),
    (
        "nl",
        "windows-1252",
        "Onbestelbaar: Voorjaarsnieuws",
        "Uw bericht kon niet worden bezorgd bij de volgende ontvangers:\n\n  {email}\n\nReden: {reason}\n",
        "Dit adres bestaat niet.",
        "De mailbox van de ontvanger is vol.",
    ),
    (
        "pl",
        "iso-8859-2",
        "Niedostarczalne: Nowości",
        "Twoja wiadomość nie została dostarczona do następujących odbiorców:\n\n  {email}\n\nPowód: {reason}\n",
        "Skrzynka odbiorcy nie istnieje.",
        "Skrzynka odbiorcy jest pełna.",
    ),
    (
        "ru",
        "koi8-r",
        "Не доставлено: Весенние новинки",
        "Ваше сообщение не может быть доставлено следующим получателям:\n\n  {email}\n\nПричина: {reason}\n",
        "Пользователь не существует.",
        "Почтовый ящик получателя переполнен.",
    ),
    (
        "ja",
        "iso-2022-jp",
        "配信不能: 春の新作",
        "次の宛先にメッセージを配信できませんでした。\n\n  {email}\n\n理由: {reason}\n",
        "宛先のユーザーが存在しません。",
        "メールボックスがいっぱいです。",
    ),
    (
        "zh",
        "gb2312",
        "系统退信: 春季新品",
        "很抱歉，您的邮件无法投递到以下收件人：\n\n  {email}\n\n原因: {reason}\n",
        "收件人不存在。",
        "收件人邮箱已满。",
    ),
    (
        "zh_tw",
        "big5",
        "郵件投遞失敗: 春季新品",
        "很抱歉，您的郵件無法投遞到以下收件人：\n\n  {email}\n\n原因: {reason}\n",
        "用戶不存在。",
        "郵箱已滿。",
    ),
]


def i18n_samples() -> None:
    for index, (lang, charset, subject, body, unknown, full) in enumerate(I18N):
        for variant, reason, kind, status in (
            ("unknown", unknown, "hard", "5.1.1"),
            ("full", full, "soft", "5.2.2"),
        ):
            delivery_id = 8000 + index * 2 + (variant == "full")
            email = f"{lang}.{variant}@receiver.example"
            encoded_subject = "=?utf-8?b?" + base64.b64encode(subject.encode()).decode() + "?="
            cte = "base64" if index % 3 == 0 else "8bit"
            text_bytes = body.format(email=email, reason=reason).encode(charset)
            payload = base64.encodebytes(text_bytes).decode() if cte == "base64" else None
            head = (
                f"Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@mx.receiver.example>\nTo: {verp(delivery_id)}\n"
                f'Subject: {encoded_subject}\nMIME-Version: 1.0\nContent-Type: text/plain; charset="{charset}"\nContent-Transfer-Encoding: {cte}\n\n'
            )
            eol = ("\n", "\r\n", "\r")[index % 3]
            if payload is not None:
                data = (head + payload).replace("\n", eol).encode("ascii")
            else:
                data = head.replace("\n", eol).encode("ascii") + body.format(
                    email=email, reason=reason
                ).replace("\n", eol).encode(charset)
            SAMPLES.append(
                (
                    f"i18n/{lang}_{variant}.eml",
                    data,
                    expect(kind, [rcpt(email, kind, status)], verp_delivery_id=delivery_id),
                )
            )


def arf_samples() -> None:
    def arf(
        name: str,
        *,
        feedback: str,
        rcpt_to: str | None,
        original_to: str,
        delivery_id: int | None,
        user_agent: str,
        campaign: int | None = 5,
        extra: str = "",
        eol: str = "\n",
        expected_rcpts: list[str] | None = None,
        headers_only: bool = False,
    ) -> None:
        fields = f"Feedback-Type: {feedback}\nUser-Agent: {user_agent}\nVersion: 1\nOriginal-Mail-From: <{verp(delivery_id) if delivery_id else SENDER}>\n"
        if rcpt_to:
            fields += f"Original-Rcpt-To: <{rcpt_to}>\n"
        fields += (
            "Arrival-Date: Tue, 04 Mar 2025 09:12:05 +0000\nSource-IP: 198.51.100.20\nReported-Domain: shop.example.com\n"
            + extra
        )
        text = (
            "From: Feedback Loop <fbl@isp.example>\nTo: fbl@shop.example.com\nSubject: FW: Our spring collection is here\nMIME-Version: 1.0\n"
            'Content-Type: multipart/report; report-type=feedback-report;\n\tboundary="arf_part"\n\n--arf_part\nContent-Type: text/plain; charset="US-ASCII"\n\n'
            "This is an email abuse report for an email message received from IP 198.51.100.20 on Tue, 04 Mar 2025 09:12:05 +0000.\n"
            "For more information about this format please see http://www.mipassoc.org/arf/.\n\n"
            "--arf_part\nContent-Type: message/feedback-report\n\n" + fields + "\n--arf_part\n"
            f"Content-Type: {'text/rfc822-headers' if headers_only else 'message/rfc822'}\nContent-Disposition: inline\n\n"
            + original(
                original_to, delivery_id=delivery_id, campaign=campaign, body=not headers_only
            )
            + "\n--arf_part--\n"
        )
        emails = expected_rcpts if expected_rcpts is not None else [rcpt_to or original_to]
        add(
            f"arf/{name}.eml",
            text,
            expect(
                "complaint",
                [rcpt(e, "complaint") for e in emails],
                feedback_type=feedback,
                verp_delivery_id=delivery_id,
                campaign_id=campaign,
            ),
            eol=eol,
        )

    arf(
        "abuse_full",
        feedback="abuse",
        rcpt_to="hank@isp.example",
        original_to="hank@isp.example",
        delivery_id=9000,
        user_agent="ISP-FBL/1.0",
    )
    arf(
        "abuse_redacted_xxx",
        feedback="abuse",
        rcpt_to=None,
        original_to="xxxxxxxx@isp.example",
        delivery_id=9001,
        user_agent="Yahoo!-Mail-Feedback/2.0",
        expected_rcpts=[],
        eol="\r\n",
    )
    arf(
        "abuse_redacted_literal",
        feedback="abuse",
        rcpt_to="redacted@isp.example",
        original_to="redacted@isp.example",
        delivery_id=9002,
        user_agent="SomeFBL/3.1",
        expected_rcpts=[],
        headers_only=True,
    )
    arf(
        "fraud",
        feedback="fraud",
        rcpt_to="iris@isp.example",
        original_to="iris@isp.example",
        delivery_id=9003,
        user_agent="ISP-FBL/1.0",
        eol="\r",
    )
    arf(
        "not_spam",
        feedback="not-spam",
        rcpt_to="joel@isp.example",
        original_to="joel@isp.example",
        delivery_id=None,
        user_agent="ISP-FBL/1.0",
        campaign=None,
    )
    arf(
        "auth_failure_dkim",
        feedback="auth-failure",
        rcpt_to="kara@isp.example",
        original_to="kara@isp.example",
        delivery_id=9005,
        user_agent="DMARC-Forensics/1.0",
        extra="Auth-Failure: dkim\nDKIM-Domain: shop.example.com\nDKIM-Selector: s2025\nDKIM-Identity: @shop.example.com\n",
    )
    arf(
        "virus",
        feedback="virus",
        rcpt_to="lars@isp.example",
        original_to="lars@isp.example",
        delivery_id=9006,
        user_agent="ISP-FBL/1.0",
    )
    arf(
        "other",
        feedback="other",
        rcpt_to=None,
        original_to="mona@isp.example",
        delivery_id=9007,
        user_agent="ISP-FBL/1.0",
    )
    # Microsoft JMRP (older Hotmail form): no feedback-report part.
    add(
        "arf/jmrp_hotmail.eml",
        "From: staff@hotmail.com\nTo: fbl@shop.example.com\nSubject: complaint about message from 198.51.100.20\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="jmrp"\n\n--jmrp\nContent-Type: text/plain\n\nThis is a complaint from the Junk Mail Reporting Program.\n\n--jmrp\n'
        "Content-Type: message/rfc822\nContent-Disposition: attachment\n\nX-HmXmrOriginalRecipient: <nils_a@hotmail.com>\n"
        + original("nils_a@hotmail.com", delivery_id=9008, campaign=5)
        + "\n--jmrp--\n",
        expect(
            "complaint",
            [rcpt("nils_a@hotmail.com", "complaint")],
            feedback_type="abuse",
            verp_delivery_id=9008,
            campaign_id=5,
        ),
        eol="\r\n",
    )
    # A redacted JMRP where only our headers say who it was.
    add(
        "arf/jmrp_redacted.eml",
        "From: staff@hotmail.com\nTo: fbl@shop.example.com\nSubject: complaint about message from 198.51.100.20\nMIME-Version: 1.0\n"
        "Content-Type: message/rfc822\n\nX-HmXmrOriginalRecipient: <xxxxxxxx@hotmail.com>\n"
        + original("xxxxxxxx@hotmail.com", delivery_id=9009, campaign=5),
        expect("complaint", [], feedback_type="abuse", verp_delivery_id=9009, campaign_id=5),
    )


AUTOREPLIES = [
    (
        "auto_submitted",
        "Auto-Submitted: auto-replied\n",
        "Re: Our spring collection is here",
        "Thanks for your message.",
    ),
    ("x_autoreply", "X-Autoreply: yes\n", "Re: Spring", "I will answer soon."),
    ("x_autorespond", "X-Autorespond: Re: Spring\n", "Spring", "Auto response."),
    ("precedence", "Precedence: auto_reply\n", "Thank you", "We received your message."),
    (
        "ooo_en",
        "",
        "Out of Office: Our spring collection is here",
        "I am out of the office until Monday.",
    ),
    (
        "automatic_reply",
        "X-MS-Exchange-Inbox-Rules-Loop: pia@corp.example\n",
        "Automatic reply: Our spring collection is here",
        "I'm away.",
    ),
    ("de", "", "Abwesenheitsnotiz: Frühlingsangebote", "Ich bin bis zum 10. März nicht im Büro."),
    ("fr", "", "Réponse automatique : Nouveautés", "Je suis absent jusqu'au 10 mars."),
    ("es", "", "Respuesta automática: Novedades", "Estoy fuera de la oficina."),
    ("it", "", "Fuori ufficio: Novità", "Sono fuori ufficio fino al 10 marzo."),
    ("pt", "", "Resposta automática: Novidades", "Estou ausente."),
    ("nl", "", "Automatisch antwoord: Voorjaarsnieuws", "Ik ben afwezig."),
    ("absence_fr", "", "Absence", "Je suis en congé."),
    ("ru", "", "Автоответ: Весенние новинки", "Я в отпуске."),
    ("ja", "", "自動応答: 春の新作", "不在にしております。"),
    (
        "no_longer_here",
        "Auto-Submitted: auto-replied\n",
        "Re: Spring",
        "Quinn no longer works here. This message will not be delivered to her; please contact sales@corp.example.",
    ),
]


def autoreply_samples() -> None:
    for index, (name, extra, subject, body) in enumerate(AUTOREPLIES):
        encoded = (
            subject
            if subject.isascii()
            else "=?UTF-8?B?" + base64.b64encode(subject.encode()).decode() + "?="
        )
        text = (
            f"Return-Path: <person{index}@corp.example>\nFrom: Person {index} <person{index}@corp.example>\nTo: {verp(9500 + index)}\n"
            f"Subject: {encoded}\n{extra}MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n{body}\n"
        )
        add(
            f"autoreply/{name}.eml",
            text,
            expect("autoreply", verp_delivery_id=9500 + index),
            eol=("\n", "\r\n")[index % 2],
        )


def success_and_other_samples() -> None:
    add(
        "success/delivered_dsn.eml",
        dsn(
            reporting_mta="mail.shop.example.com",
            subject="Successful Mail Delivery Report",
            human="This is the mail system at host mail.shop.example.com.\n\nYour message was successfully delivered to the destination(s)\nlisted below.\n\n<olaf@receiver.example>: delivery via mx.receiver.example: 250 2.0.0 Ok: queued as 3F2A\n",
            blocks=[
                block("olaf@receiver.example", "delivered", "2.0.0", "250 2.0.0 Ok: queued as 3F2A")
            ],
            returned=original("olaf@receiver.example"),
            headers_only=True,
        ),
        expect("not_bounce", [rcpt("olaf@receiver.example", "not_bounce", "2.0.0")]),
    )
    add(
        "success/relayed_exchange.eml",
        dsn(
            reporting_mta="EX02.northwind.local",
            subject="Relayed: Our spring collection is here",
            human="Delivery to these recipients or groups is complete, but no delivery notification was sent by the destination server:\n\npia@northwind.example\n",
            blocks=[block("pia@northwind.example", "relayed", "2.0.0", None, remote=None)],
            returned=original("pia@northwind.example"),
            headers_only=True,
        ),
        expect("not_bounce", [rcpt("pia@northwind.example", "not_bounce", "2.0.0")]),
        eol="\r\n",
    )
    add(
        "delay/postfix_delayed.eml",
        dsn(
            reporting_mta="mail.shop.example.com",
            subject="Delayed Mail (still being retried)",
            human="This is the mail system at host mail.shop.example.com.\n\n####################################################################\n# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\n####################################################################\n\nYour message could not be delivered for more than 4 hour(s).\nIt will be retried until it is 5 day(s) old.\n\n<quentin@slow.example>: connect to mx.slow.example[203.0.113.80]:25: Connection timed out\n",
            blocks=[
                [
                    ("Final-Recipient", "rfc822; quentin@slow.example"),
                    ("Action", "delayed"),
                    ("Status", "4.4.1"),
                    (
                        "Diagnostic-Code",
                        "X-Postfix; connect to mx.slow.example[203.0.113.80]:25: Connection timed out",
                    ),
                    ("Will-Retry-Until", "Sun, 9 Mar 2025 09:12:01 +0000 (UTC)"),
                ]
            ],
            returned=original("quentin@slow.example", delivery_id=9700),
            headers_only=True,
        ),
        expect("delay", [rcpt("quentin@slow.example", "delay", "4.4.1")], verp_delivery_id=9700),
    )
    add(
        "delay/exchange_delayed_text.eml",
        "From: Microsoft Outlook <postmaster@northwind.example>\nTo: news@shop.example.com\nSubject: Delivery delayed: Our spring collection is here\nContent-Type: text/plain\n\n"
        "Delivery is delayed to these recipients or groups:\n\nraul@northwind.example\n\nThis message hasn't been delivered yet. Delivery will continue to be attempted.\nThe server will keep trying to deliver this message for the next 1 days, 19 hours and 53 minutes. You'll be notified if the message can't be delivered by that time.\n",
        expect("delay", [rcpt("raul@northwind.example", "delay", None)]),
    )
    add(
        "not_bounce/read_receipt.eml",
        "From: Sara <sara@receiver.example>\nTo: news@shop.example.com\nSubject: Read: Our spring collection is here\nMIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=disposition-notification; boundary="mdn"\n\n--mdn\nContent-Type: text/plain\n\nYour message was read.\n\n--mdn\n'
        "Content-Type: message/disposition-notification\n\nReporting-UA: mail.receiver.example\nFinal-Recipient: rfc822;sara@receiver.example\nOriginal-Message-ID: <1.c0@shop.example.com>\nDisposition: manual-action/MDN-sent-manually; displayed\n\n--mdn--\n",
        expect("not_bounce"),
    )
    add(
        "not_bounce/human_reply.eml",
        "From: Tom <tom@receiver.example>\nTo: news@shop.example.com\nSubject: Re: Our spring collection is here\nContent-Type: text/plain; charset=utf-8\n\n"
        "Hi, do you ship to Portugal? Thanks, Tom\n\n> Our spring collection has arrived.\n",
        expect("not_bounce"),
    )
    add("not_bounce/empty_headers.eml", "Subject: hello\n\n\n", expect("not_bounce"))
    add(
        "not_bounce/newsletter.eml",
        original("ulla@receiver.example", campaign=3) + "\nNothing to see here.\n",
        expect("not_bounce", campaign_id=3),
    )
    add(
        "not_bounce/dmarc_aggregate.eml",
        "From: noreply-dmarc-support@google.com\nTo: dmarc@shop.example.com\nSubject: Report domain: shop.example.com Submitter: google.com Report-ID: 123\nMIME-Version: 1.0\n"
        'Content-Type: application/zip; name="google.com!shop.example.com!1741046400!1741132799.zip"\nContent-Transfer-Encoding: base64\n\nUEsDBBQAAAAIAA==\n',
        expect("not_bounce"),
    )


def misc_samples() -> None:
    # An SMTP transcript notice from a small MTA, with VERP only in the To.
    add(
        "misc/transcript_plain.eml",
        f"From: MAILER-DAEMON@relay.tiny.example\nTo: {verp(9800)}\nSubject: Returned mail\n\n"
        "Delivery of your message failed.\n\n--- Transcript ---\nMAIL FROM:<bounces@bounce.shop.example.com>\n250 OK\nRCPT TO:<vito@tiny.example>\n550 No such user here\nQUIT\n",
        expect("hard", [rcpt("vito@tiny.example", "hard", "5.1.1")], verp_delivery_id=9800),
        eol="\r",
    )
    # Courier-style DSN where Status is generic but the diagnostic is precise.
    add(
        "misc/courier_generic_status.eml",
        dsn(
            reporting_mta="courier.mx.example",
            subject="NOTICE: mail delivery status.",
            human="This is a delivery status notification from courier.mx.example.\n\nUNDELIVERABLE MAIL\n\n<wanda@courier.example>:\n    Remote host said: 550 5.1.1 <wanda@courier.example>... User unknown\n",
            blocks=[
                block(
                    "wanda@courier.example",
                    "failed",
                    "5.0.0",
                    "550 5.1.1 <wanda@courier.example>... User unknown",
                    final_prefix="rfc822 ;",
                )
            ],
            returned=original("wanda@courier.example"),
            headers_only=True,
        ),
        expect("hard", [rcpt("wanda@courier.example", "hard", "5.1.1")]),
    )
    # A DSN whose delivery-status part is base64 and whose blocks lack a blank line.
    add(
        "misc/dsn_base64_status.eml",
        dsn(
            reporting_mta="mx.odd.example",
            human="Delivery to the following recipient failed permanently:\n\n     xander@odd.example\n",
            blocks=[
                block(
                    "xander@odd.example",
                    "failed",
                    "5.1.2",
                    "550 5.1.2 Host unknown (Name server: odd.example: host not found)",
                )
            ],
            returned=original("xander@odd.example", delivery_id=9801),
            dsn_cte="base64",
        ),
        expect("hard", [rcpt("xander@odd.example", "hard", "5.1.2")], verp_delivery_id=9801),
        eol="\r\n",
    )
    # Angle brackets and mixed case in Final-Recipient; Diagnostic without type.
    add(
        "misc/dsn_brackets_case.eml",
        dsn(
            reporting_mta="mx.case.example",
            human="Your message could not be delivered.\n",
            blocks=[
                [
                    ("Final-Recipient", "RFC822; <Yolanda.Case@Case.Example>"),
                    ("Action", "Failed"),
                    ("Status", "5.2.2 (mailbox full)"),
                    (
                        "Diagnostic-Code",
                        "552 Requested mail action aborted: exceeded storage allocation",
                    ),
                ]
            ],
            returned=original("Yolanda.Case@Case.Example"),
            headers_only=True,
        ),
        expect("soft", [rcpt("yolanda.case@case.example", "soft", "5.2.2")]),
    )
    # Only our token in a quoted Return-Path, nothing else identifies the message.
    add(
        "misc/token_only_in_quote.eml",
        "From: Mail Delivery System <MAILER-DAEMON@mx.receiver.example>\nTo: news@shop.example.com\nSubject: Mail delivery failed\n\n"
        "A message that you sent could not be delivered to one or more of its recipients.\n\n  zed@receiver.example\n    550 5.1.1 mailbox does not exist\n\n"
        "------ This is a copy of the message's headers. ------\n\n"
        + original("zed@receiver.example", delivery_id=9802, campaign=77, body=False),
        expect(
            "hard",
            [rcpt("zed@receiver.example", "hard", "5.1.1")],
            verp_delivery_id=9802,
            campaign_id=77,
        ),
    )
    # A forged token (wrong MAC) must not be trusted.
    forged = verp(9803).replace(verp_token(9803), "264b-aaaaaaaaaa")
    add(
        "misc/forged_token.eml",
        f"From: MAILER-DAEMON@mx.receiver.example\nTo: {forged}\nSubject: failure notice\n\n"
        "Hi. This is the qmail-send program at mx.receiver.example.\n\n<abby@receiver.example>:\nSorry, no mailbox here by that name. (#5.1.1)\n",
        expect("hard", [rcpt("abby@receiver.example", "hard", "5.1.1")]),
    )
    # Greylisting and too-many-connections delays from a non-DSN notice.
    add(
        "misc/greylisted_notice.eml",
        "From: MAILER-DAEMON@mail.shop.example.com\nTo: news@shop.example.com\nSubject: Undelivered Mail Returned to Sender\n\n"
        "<bea.g@grey.example>: host mx.grey.example[203.0.113.3] said: 450 4.7.1 <bea.g@grey.example>: Recipient address rejected: Greylisted, try again later\n",
        expect("soft", [rcpt("bea.g@grey.example", "soft", "4.7.1")]),
    )
    add(
        "misc/html_only_ndr.eml",
        "From: postmaster@htmlonly.example\nTo: news@shop.example.com\nSubject: Undeliverable: Spring\nMIME-Version: 1.0\nContent-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable\n\n"
        '<html><body><p><b>Delivery has failed to these recipients or groups:</b></p><p><a href=3D"mailto:cyd@htmlonly.example">cyd@htmlonly.example</a><br>The e-mail address you entered couldn=92t be found.</p>'
        "<p>Remote Server returned '550 5.1.1 User unknown'</p></body></html>\n",
        expect("hard", [rcpt("cyd@htmlonly.example", "hard", "5.1.1")]),
    )


def write() -> None:
    for make in (
        postfix_samples,
        gmail_samples,
        exim_samples,
        sendmail_samples,
        qmail_samples,
        exchange_samples,
        outlook_com_samples,
        yahoo_samples,
        ses_samples,
        google_groups_samples,
        domino_groupwise_samples,
        i18n_samples,
        arf_samples,
        autoreply_samples,
        success_and_other_samples,
        misc_samples,
    ):
        make()
    # The second author's samples (b2-*), kept in their own module.
    import make_corpus_b2

    SAMPLES.extend(make_corpus_b2.samples())
    # And the third author's (c3-*).
    import make_corpus_c3

    SAMPLES.extend(make_corpus_c3.samples())
    # And the fourth author's (d4-).
    import make_corpus_d4

    SAMPLES.extend(make_corpus_d4.samples())
    print(f"wrote {write_samples(SAMPLES)} samples to {CORPUS}")


if __name__ == "__main__":
    write()
