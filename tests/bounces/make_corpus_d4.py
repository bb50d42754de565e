# ruff: noqa: E501
"""Fourth-author samples (``corpus/*/d4-*.eml``): wording variety and rarer senders.

The same meaning said many ways ("no such user", "mailbox full", "message too
big", "mailbox disabled"...), notices from less common MTAs and mail
gateways, regional providers, feedback-loop variants and messages that are no
bounce at all. Running this file rewrites only the ``d4-`` samples and their
entries in ``expected.json``. The text is ours; the expectation is what the
documented rules say.
"""

from __future__ import annotations

import base64
from typing import Any

from corpus_files import CORPUS, Sample, verp_token, write_samples

FROM = "digest@send.postino.example.org"
_SAMPLES: list[Sample] = []


def r(email: str, kind: str, status: str | None) -> dict[str, Any]:
    return {"email": email, "kind": kind, "status": status}


def want(
    kind: str, *recipients: dict[str, Any], ft: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"kind": kind, "recipients": list(recipients), "feedback_type": ft, **extra}


def put(path: str, data: str | bytes, expected: dict[str, Any], *, eol: str = "\n") -> None:
    folder, _, name = path.partition("/")
    raw = data.replace("\n", eol).encode() if isinstance(data, str) else data
    _SAMPLES.append((f"{folder}/d4-{name}.eml", raw, expected))


def returned(to: str, *, ref: str | None = None, subject: str = "Your weekly reading list") -> str:
    return (
        "Received: from o3.send.postino.example.org (o3.send.postino.example.org [198.51.100.33])\n"
        "\tby mx1.receiver.example with ESMTP id 9QX2;\n"
        "\tWed, 9 Apr 2025 07:30:11 +0000\n"
        f'From: "Reading Room" <{FROM}>\n'
        f"To: {to}\n"
        f"Subject: {subject}\n"
        "Message-ID: <rr.0409.77@send.postino.example.org>\n"
        + (f"X-Postino-Ref: {ref}\n" if ref else "")
        + "Content-Type: text/plain; charset=utf-8\n"
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
    rcpt: str,
    mta: str = "mx.receiver.example",
    subject: str = "Undelivered Mail Returned to Sender",
    frm: str = "MAILER-DAEMON@mx.receiver.example",
) -> str:
    b = "d4=_rep_41"
    return (
        f"Return-Path: <>\nFrom: {frm}\nTo: {FROM}\nSubject: {subject}\n"
        "Date: Wed, 9 Apr 2025 07:30:15 +0000\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{b}"\n\n'
        f"--{b}\nContent-Type: text/plain; charset=utf-8\n\n{human}\n\n"
        f"--{b}\nContent-Type: message/delivery-status\n\n"
        f"Reporting-MTA: dns; {mta}\n\n" + "\n".join(blocks) + "\n"
        f"--{b}\nContent-Type: text/rfc822-headers\n\n{returned(rcpt)}\n--{b}--\n"
    )


def notice(
    body: str,
    *,
    subject: str,
    frm: str,
    extra: str = "",
    to: str = FROM,
    return_path: str = "<>",
) -> str:
    return (
        f"Return-Path: {return_path}\nFrom: {frm}\nTo: {to}\nSubject: {subject}\n"
        "Date: Wed, 9 Apr 2025 07:31:02 +0000\nMIME-Version: 1.0\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\n\n{body}\n"
    )


# --- the same meaning, many wordings (DSNs with a generic status) --------------


def wordings() -> None:
    # (name, provider domain, Status, diagnostic, kind, status we report)
    cases = [
        # no such user
        (
            "nouser_no_mailbox_for_user",
            "comcast.example.net",
            "5.0.0",
            "550 sorry, the user does not have a mailbox on this system",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_cannot_find",
            "virginmedia.example.com",
            "5.0.0",
            "550 Cannot find the mailbox you addressed",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_unknown_local_user",
            "abv.example.bg",
            "5.0.0",
            "550 Unknown local user in this domain",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_german_nicht_bekannt",
            "freenet.example.de",
            "5.0.0",
            "550 Empfänger nicht bekannt / recipient not known here",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_korean",
            "naver.example.com",
            "5.0.0",
            "550 존재하지 않는 사용자입니다 (no such account)",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_account_deleted",
            "rediffmail.example.com",
            "5.0.0",
            "550 The account has been deleted by its owner",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_italian_non_presente",
            "libero.example.it",
            "5.0.0",
            "550 utente non presente su questo server",
            "hard",
            "5.1.1",
        ),
        (
            "nouser_dutch_niet_in_gebruik",
            "kpn.example.nl",
            "5.0.0",
            "550 dit e-mailadres is niet in gebruik",
            "hard",
            "5.1.1",
        ),
        # mailbox full
        (
            "full_at_capacity",
            "cox.example.net",
            "5.0.0",
            "550 Recipient mailbox is at capacity, cannot accept new mail",
            "soft",
            "5.2.2",
        ),
        (
            "full_reached_size_limit",
            "telstra.example.com.au",
            "5.0.0",
            "550 This inbox has reached its size limit",
            "soft",
            "5.2.2",
        ),
        (
            "full_ukrainian",
            "ukr.example.net",
            "5.0.0",
            "550 Поштова скринька отримувача переповнена",
            "soft",
            "5.2.2",
        ),
        (
            "full_over_storage_limit",
            "att.example.net",
            "5.0.0",
            "552 recipient is over storage limit",
            "soft",
            "5.2.2",
        ),
        # domain does not exist
        (
            "domain_illegal_host",
            "nowhere.example",
            "5.0.0",
            "Illegal host/domain name found",
            "hard",
            "5.1.2",
        ),
        (
            "domain_no_mail_exchangers",
            "typo-sky.example",
            "5.0.0",
            "Domain typo-sky.example has no mail exchangers",
            "hard",
            "5.1.2",
        ),
        (
            "domain_no_dns_records",
            "orangge.example",
            "5.0.0",
            "No DNS records for domain orangge.example",
            "hard",
            "5.1.2",
        ),
        # blocked as spam
        (
            "spam_dnsbls",
            "comcast.example.net",
            "5.0.0",
            "554 resimta-po-31v.sys.comcast.example 198.51.100.33 found on one or more DNSBLs, see postmaster page BL000001",
            "soft",
            "5.7.1",
        ),
        (
            "spam_netease_dtspm",
            "126.example.com",
            "5.0.0",
            "554 DT:SPM mx126,QsCowAB3 1744183811 please see the postmaster help page",
            "soft",
            "5.7.1",
        ),
        (
            "spam_content_unacceptable",
            "ironport.corp.example",
            "5.0.0",
            "554 Transaction failed: message content unacceptable",
            "soft",
            "5.7.1",
        ),
        (
            "spam_quarantined_gateway",
            "sophos.corp.example",
            "5.0.0",
            "550 Message quarantined by the recipient's mail gateway",
            "soft",
            "5.7.1",
        ),
        # message too big
        (
            "size_message_file_too_big",
            "xs4all.example.nl",
            "5.0.0",
            "552 Error: message file too big",
            "soft",
            "5.3.4",
        ),
        (
            "size_databytes",
            "telenet.example.be",
            "5.0.0",
            "552 sorry, that message size exceeds my databytes limit (#5.3.4)",
            "soft",
            "5.3.4",
        ),
        (
            "size_mailsize_limit",
            "sina.example.com",
            "5.0.0",
            "552 Requested mail action aborted: exceeded mailsize limit",
            "soft",
            "5.3.4",
        ),
        (
            "size_message_too_long",
            "ziggo.example.nl",
            "5.0.0",
            "554 Message too long for this server",
            "soft",
            "5.3.4",
        ),
        # mailbox disabled
        (
            "disabled_inactivity_blocked",
            "rambler.example.ru",
            "5.0.0",
            "550 This mailbox has been blocked due to inactivity",
            "hard",
            "5.2.1",
        ),
        (
            "disabled_archived_recipient",
            "wanadoo.example.fr",
            "5.0.0",
            "550 boite du destinataire archivee / archived recipient",
            "hard",
            "5.2.1",
        ),
        (
            "disabled_not_receiving",
            "tiscali.example.it",
            "5.0.0",
            "550 Mailbox disabled, not receiving mail",
            "hard",
            "5.2.1",
        ),
        # try again later (a transient status decides)
        (
            "later_too_busy",
            "bluewin.example.ch",
            "4.0.0",
            "421 Server too busy, come back later",
            "soft",
            "4.0.0",
        ),
        (
            "later_resources",
            "alice.example.it",
            "4.0.0",
            "452 Insufficient system resources",
            "soft",
            "4.0.0",
        ),
    ]
    for name, domain, status, diag, kind, expected in cases:
        email = f"reader.{name.split('_')[0]}@{domain}"
        put(
            f"misc/{name}",
            dsn(
                "This is the mail system at host relay.postino.example.org.\n\n"
                "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.",
                block(email, "failed", status, diag),
                rcpt=email,
            ),
            want(kind, r(email, kind, expected)),
        )


# --- less common MTAs and gateways ---------------------------------------------------


def software() -> None:
    put(
        "misc/opensmtpd_text",
        notice(
            "Hi!\n\nThis is the MAILER-DAEMON, please DO NOT REPLY to this email.\n\n"
            "An error has occurred while attempting to deliver a message for\nthe following list of recipients:\n\n"
            "lena@smtpd.example.org: 550 Invalid recipient <lena@smtpd.example.org>\n\n"
            "Below is a copy of the original message:\n\n" + returned("lena@smtpd.example.org"),
            subject="Delivery status notification: error",
            frm="Mailer Daemon <MAILER-DAEMON@smtpd.example.org>",
        ),
        want("hard", r("lena@smtpd.example.org", "hard", "5.1.1")),
    )
    put(
        "misc/haraka_dsn_multi",
        dsn(
            "Your message could not be delivered to some recipients.",
            block(
                "ola@haraka.example.net", "failed", "5.1.1", "550 5.1.1 Mailbox does not exist here"
            ),
            block(
                "piet@haraka.example.net", "delayed", "4.4.1", "connect ETIMEDOUT 203.0.113.9:25"
            ),
            rcpt="ola@haraka.example.net",
            frm="Haraka MAILER-DAEMON <postmaster@haraka.example.net>",
            subject="Mail delivery failed",
        ),
        want(
            "hard",
            r("ola@haraka.example.net", "hard", "5.1.1"),
            r("piet@haraka.example.net", "delay", "4.4.1"),
        ),
    )
    put(
        "misc/hmailserver_text",
        notice(
            "Your message did not reach some or all of the intended recipients.\n\n"
            "   Sent: Wed, 9 Apr 2025 07:30:11 +0000\n   Subject: Your weekly reading list\n\n"
            "The following recipient(s) could not be reached:\n\n"
            "kasia@hmail.example.pl\n   Error Type: SMTP\n   Remote server (203.0.113.40) issued an error.\n"
            "   hMailServer sent: RCPT TO:<kasia@hmail.example.pl>\n"
            "   Remote server replied: 550 No such person at this address\n\n"
            "hMailServer\n",
            subject="Message undeliverable: Your weekly reading list",
            frm="mailer-daemon@hmail.example.pl",
        ),
        want("hard", r("kasia@hmail.example.pl", "hard", "5.1.1")),
    )
    put(
        "misc/icewarp_text_full",
        notice(
            "Message delivery failed for the following recipient:\n\n"
            "  tomas@icewarp.example.cz\n\n"
            "Reason: 552 Recipient's mail account has insufficient free space\n",
            subject="Undeliverable: Your weekly reading list",
            frm="IceWarp Server <postmaster@icewarp.example.cz>",
        ),
        want("soft", r("tomas@icewarp.example.cz", "soft", "5.2.2")),
    )
    put(
        "misc/axigen_dsn_yahoo_like",
        dsn(
            "Axigen Mail Server could not deliver your message.",
            block(
                "ioana@axigen.example.ro",
                "failed",
                "5.1.1",
                "554 5.1.1 The mail server could not deliver mail to ioana@axigen.example.ro. The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.",
            ),
            rcpt="ioana@axigen.example.ro",
            frm="Axigen Mail Server <postmaster@axigen.example.ro>",
        ),
        want("hard", r("ioana@axigen.example.ro", "hard", "5.1.1")),
    )
    put(
        "misc/smartermail_text",
        notice(
            "The message to marta@smarter.example.es was undeliverable.\n"
            "The reason for the problem:\n"
            "5.1.0 - Unknown address error 550-'5.7.1 Recipient address rejected: this mailbox is closed'\n",
            subject="Undeliverable Mail",
            frm="postmaster@smarter.example.es",
        ),
        want("hard", r("marta@smarter.example.es", "hard", "5.1.0")),
    )
    put(
        "misc/communigate_text",
        notice(
            "Failed to deliver to '<yuki@cgpro.example.jp>'\n"
            "SMTP module(domain cgpro.example.jp) reports:\n"
            " host mx.cgpro.example.jp says:\n"
            " 550 unknown user account\n",
            subject="Undeliverable mail: Your weekly reading list",
            frm="MAILER-DAEMON@cgpro.example.jp",
        ),
        want("hard", r("yuki@cgpro.example.jp", "hard", "5.1.1")),
    )
    put(
        "misc/sun_messaging_server_dsn",
        dsn(
            "This report relates to a message you sent with the following header fields:\n\n"
            "  Message-id: <rr.0409.77@send.postino.example.org>\n  Subject: Your weekly reading list\n\n"
            "Your message cannot be delivered to the following recipients:\n\n"
            "  Recipient address: bert@ms.example.edu\n"
            "  Reason: Remote SMTP server has rejected address\n"
            "  Diagnostic code: smtp;550 5.2.1 Mailbox disabled for this recipient\n"
            "  Remote system: dns;mail.ms.example.edu\n",
            "Original-recipient: rfc822;bert@ms.example.edu\n"
            + block(
                "bert@ms.example.edu",
                "failed",
                "5.2.1",
                "550 5.2.1 Mailbox disabled for this recipient",
            ),
            rcpt="bert@ms.example.edu",
            frm="Internet Mail Delivery <postmaster@ms.example.edu>",
            subject="Delivery Notification: Delivery has failed",
        ),
        want("hard", r("bert@ms.example.edu", "hard", "5.2.1")),
    )
    put(
        "misc/novell_gwia_text",
        notice(
            "The message that you sent was undeliverable to the following:\n"
            "\tsven@gw.example.se (host: gw.example.se) (queue: Smtp) (Mailbox quota exhausted)\n\n"
            "Possible causes:\n\tThe recipient has exceeded their mail allowance\n",
            subject="Mail failure",
            frm="Mail Administrator <Postmaster@gw.example.se>",
        ),
        want("soft", r("sven@gw.example.se", "soft", "5.2.2")),
    )
    put(
        "misc/postfix_custom_template",
        notice(
            "Hello, this is the mail server of Harbour Hosting.\n\n"
            "We tried hard but could not hand your message to one recipient:\n\n"
            "<nils@harbour.example.dk>: host mx.harbour.example.dk[203.0.113.12] said: 550\n"
            "    Requested action not taken: mailbox name invalid (in reply to RCPT TO\n    command)\n\n"
            "Questions? Write to support@harbour.example.dk.\n",
            subject="Your message bounced",
            frm="Harbour Hosting Mail System <MAILER-DAEMON@harbour.example.dk>",
        ),
        want("hard", r("nils@harbour.example.dk", "hard", "5.1.1")),
    )
    put(
        "misc/postfix_code_wrapped_after_ip",
        notice(
            "This is the mail system at host out2.postino.example.org.\n\n"
            "I'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n"
            "<hugo@btinternet.example.com>: host mx.bt.example.com[203.0.113.77] said: 550\n"
            "    Requested action aborted: error in processing (in reply to end of DATA\n    command)\n",
            subject="Undelivered Mail Returned to Sender",
            frm="MAILER-DAEMON@out2.postino.example.org (Mail Delivery System)",
        ),
        want("hard", r("hugo@btinternet.example.com", "hard", "5.0.0")),
    )
    put(
        "misc/orange_too_many_connections_expired",
        dsn(
            "Delivery to the following recipient has been given up after retries.",
            block(
                "lea@orange.example.fr",
                "failed",
                "4.7.0",
                "421 mwinf5c21 ME Trop de connexions, veuillez verifier votre configuration. Too many connections, slow down. OFR005_104",
            ),
            rcpt="lea@orange.example.fr",
        ),
        want("soft", r("lea@orange.example.fr", "soft", "4.7.0")),
    )
    put(
        "misc/exim_custom_template",
        notice(
            "Our mail relay was unable to pass your message on.\n\n"
            "  failed address: anke@relay.example.at\n"
            "  remote answer:  SMTP error from remote mail server after RCPT TO:<anke@relay.example.at>:\n"
            "                  550 5.1.1 <anke@relay.example.at>: Recipient address rejected: undeliverable address: mailbox vanished\n",
            subject="Mail delivery failed: returning message to sender",
            frm="Mail Delivery System <Mailer-Daemon@relay.example.at>",
            extra="X-Failed-Recipients: anke@relay.example.at\n",
        ),
        want("hard", r("anke@relay.example.at", "hard", "5.1.1")),
    )
    put(
        "misc/zimbra_dsn_full",
        dsn(
            "Zimbra could not deliver your message.",
            block(
                "gus@zimbra.example.com",
                "failed",
                "5.0.0",
                "552 5.2.2 gus@zimbra.example.com: mailbox over its allotted space",
            ),
            rcpt="gus@zimbra.example.com",
            frm="Zimbra <MAILER-DAEMON@zimbra.example.com>",
        ),
        want("soft", r("gus@zimbra.example.com", "soft", "5.2.2")),
    )
    put(
        "misc/mimecast_antispoof",
        notice(
            "Your message couldn't be delivered to the recipients shown below.\n\n"
            "  lucy@mimecast-cust.example.co.uk\n\n"
            "Reason: 550 Rejected by header based Anti-Spoofing policy: lucy@mimecast-cust.example.co.uk\n",
            subject="Message Delivery Failure",
            frm="Postmaster <postmaster@mimecast-cust.example.co.uk>",
        ),
        want("soft", r("lucy@mimecast-cust.example.co.uk", "soft", "5.7.1")),
    )
    put(
        "misc/proofpoint_ip_reputation",
        dsn(
            "Delivery has failed to these recipients or groups.",
            block(
                "owen@pp-cust.example.com",
                "failed",
                "5.0.0",
                "554 Message refused by the recipient's filtering service, IP not trusted (see pp help page)",
            ),
            rcpt="owen@pp-cust.example.com",
        ),
        want("soft", r("owen@pp-cust.example.com", "soft", "5.7.1")),
    )
    put(
        "misc/ironport_address_rejected",
        dsn(
            "The following address failed: owen2@ironport-cust.example.com",
            block(
                "owen2@ironport-cust.example.com", "failed", "5.1.0", "550 #5.1.0 Address rejected."
            ),
            rcpt="owen2@ironport-cust.example.com",
        ),
        want("hard", r("owen2@ironport-cust.example.com", "hard", "5.1.0")),
    )
    put(
        "exchange/m365_action_required_provider_rejected",
        notice(
            "Your message to ava@fabrikam-d4.example couldn't be delivered.\n"
            "ava's email provider rejected it.\n\n"
            "Action Required                                      Recipient\n"
            "Unknown To address\n\n"
            "How to Fix It\n"
            "The address may be misspelled or may not exist. Try one or more of the following:\n"
            "- Retype the recipient's address, then resend the message.\n\n"
            "Diagnostic information for administrators:\n"
            "Generating server: AM0PR01MB1234.eurprd01.prod.example.com\n"
            "ava@fabrikam-d4.example\n"
            "Remote server returned '550 5.1.1 Requested action not taken: mailbox unavailable'\n",
            subject="Undeliverable: Your weekly reading list",
            frm="Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso-d4.example>",
        ),
        want("hard", r("ava@fabrikam-d4.example", "hard", "5.1.1")),
    )
    put(
        "exchange/m365_action_required_spam",
        notice(
            "Your message to zoe@tailspin-d4.example couldn't be delivered.\n"
            "zoe's email server thinks the message might be unwanted.\n\n"
            "Action Required                                      Sender\n"
            "Message not accepted\n\n"
            "Diagnostic information for administrators:\n"
            "zoe@tailspin-d4.example\n"
            "Remote server returned '550 5.7.350 Remote server returned message detected as spam -> 554 5.7.1 Service unavailable'\n",
            subject="Undeliverable: Your weekly reading list",
            frm="Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@contoso-d4.example>",
        ),
        want("soft", r("zoe@tailspin-d4.example", "soft", "5.7.350")),
    )
    put(
        "misc/optus_relay_denied",
        dsn(
            "Delivery to the following recipient failed permanently.",
            block(
                "mick@optus.example.com.au",
                "failed",
                "5.0.0",
                "553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
            ),
            rcpt="mick@optus.example.com.au",
        ),
        want("soft", r("mick@optus.example.com.au", "soft", "5.7.1")),
    )
    put(
        "misc/daum_text_crlf",
        notice(
            "This is an automatically generated Delivery Status Notification.\n\n"
            "Delivery to the following recipients failed.\n\n"
            "       minji@daum.example.net\n\n"
            "Reason: 550 5.1.1 No such user(daum.example.net) - unregistered id\n",
            subject="Delivery Status Notification (Failure)",
            frm="postmaster@daum.example.net",
        ),
        want("hard", r("minji@daum.example.net", "hard", "5.1.1")),
    )


# --- delays and things that are no bounce -----------------------------------------------


def non_bounces() -> None:
    put(
        "delay/delayed_four_hours",
        notice(
            "Your message to tara@verizon.example.net has been delayed for 4 hours.\n"
            "The receiving server is not answering. Our server keeps the message in the queue\n"
            "and tries again regularly; you will be told if it finally fails.\n\n"
            "Last error: 421 4.4.2 connection timed out\n",
            subject="Delayed: Your weekly reading list",
            frm="Mail Delivery Subsystem <mailer-daemon@relay.postino.example.org>",
        ),
        want("delay", r("tara@verizon.example.net", "delay", "4.4.2")),
    )
    put(
        "delay/retried_for_five_days",
        notice(
            "WARNING. This is an automated note, not a failure yet.\n\n"
            "Delivery to ben@sbcglobal.example.net is being attempted again.\n"
            "The message will be retried for 5 days before it is returned.\n\n"
            "Reason: 451 4.3.0 Mail server temporarily rejected message\n",
            subject="Warning: message to ben@sbcglobal.example.net not yet sent",
            frm="postmaster@relay.postino.example.org",
        ),
        want("delay", r("ben@sbcglobal.example.net", "delay", "4.3.0")),
    )
    put(
        "not_bounce/human_reply_quoting_550",
        notice(
            "Hi,\n\nI tried to reply to your help desk yesterday and got an error 550 user unknown,\n"
            "so I am writing here. Please take me off the monthly list.\n\nThanks, Ruth\n\n"
            f"On Wed, 9 Apr 2025, Reading Room <{FROM}> wrote:\n> Your weekly reading list\n> Undeliverable items? Reply to us.\n",
            subject="Re: Your weekly reading list",
            frm="Ruth Parry <ruth@btinternet.example.com>",
            return_path="<ruth@btinternet.example.com>",
        ),
        want("not_bounce"),
    )
    put(
        "not_bounce/provider_newsletter",
        notice(
            "Xfinity Connect news for April\n\n"
            "New: see why a message could not be delivered right from your inbox,\n"
            "and stop spam with one click. Your mailbox storage has grown to 10 GB.\n",
            subject="What's new in your mailbox this spring",
            frm="Comcast Mail Team <news@mail.comcast.example.net>",
            return_path="<bounce-77@mail.comcast.example.net>",
        ),
        want("not_bounce"),
    )
    put(
        "not_bounce/read_receipt_text",
        notice(
            "Your message\n\n  To: carla@sky.example.com\n  Subject: Your weekly reading list\n"
            "  Sent: Wednesday, 9 April 2025 07:30:11 (UTC)\n\nwas read on Wednesday, 9 April 2025 09:02:40 (UTC).\n",
            subject="Read: Your weekly reading list",
            frm="Carla Wynn <carla@sky.example.com>",
            return_path="<carla@sky.example.com>",
        ),
        want("not_bounce"),
    )
    put(
        "misc/quarantine_notice",
        notice(
            "The message you sent to felix@charter.example.net has been held in quarantine\n"
            "by the recipient's email security gateway and will not reach the mailbox\n"
            "unless an administrator releases it.\n",
            subject="Message quarantined: Your weekly reading list",
            frm="Email Security Gateway <noreply-gateway@charter.example.net>",
            return_path="<>",
        ),
        want("soft", r("felix@charter.example.net", "soft", "5.7.1")),
    )
    b = "d4cal"
    put(
        "autoreply/calendar_auto_accept",
        (
            "Return-Path: <paul@orange.example.fr>\nFrom: Paul Roux <paul@orange.example.fr>\n"
            f"To: {FROM}\nSubject: Accepted: Reading Room live session\n"
            "Date: Wed, 9 Apr 2025 07:31:00 +0000\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/alternative; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain; charset=utf-8\n\nPaul Roux has accepted this invitation.\n\n"
            f"--{b}\nContent-Type: text/calendar; charset=utf-8; method=REPLY\n\n"
            "BEGIN:VCALENDAR\nMETHOD:REPLY\nBEGIN:VEVENT\n"
            "ATTENDEE;PARTSTAT=ACCEPTED:mailto:paul@orange.example.fr\nSUMMARY:Reading Room live session\n"
            f"END:VEVENT\nEND:VCALENDAR\n\n--{b}--\n"
        ),
        want("autoreply"),
    )


# --- feedback loops ----------------------------------------------------------------


def arf_report(
    fields: str,
    original: str,
    *,
    b64: bool = False,
    frm: str,
    human: str = "This is an email abuse report.",
) -> str:
    b = "d4arf"
    if b64:
        enc = base64.encodebytes(original.encode()).decode()
        orig_part = (
            f"--{b}\nContent-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\n{enc}\n"
        )
    else:
        orig_part = f"--{b}\nContent-Type: message/rfc822\n\n{original}\n"
    return (
        f"Return-Path: <>\nFrom: {frm}\nTo: fbl@postino.example.org\nSubject: Abuse report\n"
        "Date: Wed, 9 Apr 2025 12:00:00 +0000\nMIME-Version: 1.0\n"
        f'Content-Type: multipart/report; report-type=feedback-report; boundary="{b}"\n\n'
        f"--{b}\nContent-Type: text/plain\n\n{human}\n\n"
        f"--{b}\nContent-Type: message/feedback-report\n\n{fields}\n" + orig_part + f"--{b}--\n"
    )


def complaints() -> None:
    tok = verp_token(4101)
    put(
        "arf/comcast_redacted_ref_only",
        arf_report(
            "Feedback-Type: abuse\nUser-Agent: Comcast Feedback Loop 1.0\nVersion: 1\n",
            returned("redacted@comcast.example.net", ref=tok) + "\nHello\n",
            frm="Comcast FBL <feedback@comcast.example.net>",
        ),
        want("complaint", ft="abuse", verp_delivery_id=4101),
    )
    put(
        "arf/cox_no_version",
        arf_report(
            "Feedback-Type: abuse\nOriginal-Mail-From: <bounces@send.postino.example.org>\nArrival-Date: Wed, 9 Apr 2025 07:30:11 +0000\n",
            returned("dana@cox.example.net") + "\nHello\n",
            frm="Cox Abuse <abuse-fbl@cox.example.net>",
        ),
        want("complaint", r("dana@cox.example.net", "complaint", None), ft="abuse"),
    )
    put(
        "arf/rackspace_base64_original",
        arf_report(
            "Feedback-Type: abuse\nUser-Agent: Rackspace-FBL/2.0\nVersion: 1\nSource-IP: 198.51.100.33\n",
            returned("eli@rackspace-cust.example.com") + "\nHello there\n",
            b64=True,
            frm="Rackspace FBL <fbl@emailsrvr.example.com>",
        ),
        want("complaint", r("eli@rackspace-cust.example.com", "complaint", None), ft="abuse"),
    )
    put(
        "arf/zoho_original_rcpt",
        arf_report(
            "Feedback-Type: abuse\nUser-Agent: Zoho-FBL\nVersion: 1\nOriginal-Rcpt-To: <fern@zoho-cust.example.in>\nReported-Domain: send.postino.example.org\n",
            returned("fern@zoho-cust.example.in") + "\nHello\n",
            frm="Zoho FBL <fbl@zoho.example.com>",
        ),
        want("complaint", r("fern@zoho-cust.example.in", "complaint", None), ft="abuse"),
    )
    # Yandex-style: the report fields in a text/plain part, no Version.
    b = "d4ya"
    put(
        "arf/yandex_fields_in_text_no_version",
        (
            "Return-Path: <>\nFrom: Yandex FBL <fbl@yandex.example.ru>\nTo: fbl@postino.example.org\n"
            "Subject: Complaint about a message\nDate: Wed, 9 Apr 2025 12:00:00 +0000\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/mixed; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain\n\n"
            "Feedback-Type: abuse\nOriginal-Mail-From: bounces@send.postino.example.org\n"
            "Original-Rcpt-To: gleb@yandex.example.ru\nArrival-Date: Wed, 9 Apr 2025 07:30:11 +0300\n\n"
            f"--{b}\nContent-Type: message/rfc822\n\n"
            + returned("gleb@yandex.example.ru")
            + f"\nHello\n\n--{b}--\n"
        ),
        want("complaint", r("gleb@yandex.example.ru", "complaint", None), ft="abuse"),
    )


def more_complaints() -> None:
    b = "d4hdr"
    headers = base64.encodebytes(returned("ivo@telenet.example.be").encode()).decode()
    put(
        "arf/headers_part_base64",
        (
            "Return-Path: <>\nFrom: FBL <fbl@telenet.example.be>\nTo: fbl@postino.example.org\n"
            "Subject: FW: spam complaint\nDate: Wed, 9 Apr 2025 12:00:00 +0000\nMIME-Version: 1.0\n"
            f'Content-Type: multipart/report; report-type=feedback-report; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain\n\nA user marked your message as spam.\n\n"
            f"--{b}\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: telenet-fbl\nVersion: 1\n\n"
            f"--{b}\nContent-Type: text/rfc822-headers\nContent-Transfer-Encoding: base64\n\n{headers}\n--{b}--\n"
        ),
        want("complaint", r("ivo@telenet.example.be", "complaint", None), ft="abuse"),
    )


def write() -> None:
    print(f"wrote {write_samples(samples(), prefix='d4-')} d4 samples to {CORPUS}")


def samples() -> list[Sample]:
    if not _SAMPLES:
        for make in (wordings, software, non_bounces, complaints, more_complaints):
            make()
    return list(_SAMPLES)


if __name__ == "__main__":
    write()
