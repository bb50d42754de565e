"""Bounces without a machine-readable part: Exim, qmail, old Sendmail,
Exchange and Domino notices, GroupWise, and plain "could not be delivered"
mail in many languages.

The approach does not try to recognise every MTA's template. It takes the
human-readable text before the returned message, finds the addresses in it
that are neither ours nor the reporting system's, and classifies the lines
that follow each one (its "segment"); when a segment gives no reason, the whole
notice does. MTA-specific knowledge is limited to where the returned message
starts and to a few markers of delay warnings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bounces import classify as cls
from bounces import i18n_phrases as phrases
from bounces.dsn import clean_address

ADDRESS = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]*@"
    r"(?:\[[0-9.]+\]|[A-Za-z0-9\u00a0-\uffff](?:[\w\u00a0-\uffff-]*[\w\u00a0-\uffff])?"
    r"(?:\.[A-Za-z0-9\u00a0-\uffff](?:[\w\u00a0-\uffff-]*[\w\u00a0-\uffff])?)*\.[A-Za-z\u00a0-\uffff]{2,})",
)

# Where the returned copy of the message starts in a single-part notice.
ORIGINAL_MARKER = re.compile(
    r"^.*(?:"
    r"this is a copy of the message|the body of the message is|"
    r"below this line is a copy of the message|"
    r"original message (?:follows|headers?|is attached)|"
    r"-{2,} ?(?:original|returned|forwarded) message ?-{2,}|"
    r"unsent message follows|message header follows|"
    r"(?:header|headers|text) of the original message|"
    r"copy of (?:the |your )?original message|"
    r"returned message follows|"
    r"kopie der (?:urspr[üu]nglichen )?nachricht|originalnachricht|"
    r"message d'origine|copie du message|"
    r"mensaje original|messaggio originale|mensagem original|"
    r"oorspronkelijk(?:e)? bericht|wiadomo\w+ oryginaln|"
    r"исходное сообщение|исходного сообщения|元のメッセージ|原始邮件|原邮件|原始郵件"
    r").*$|^(?:Received: from |Return-Path: <|DKIM-Signature: )",
    re.IGNORECASE | re.MULTILINE,
)

_HEADER_START = re.compile(r"^[A-Za-z][A-Za-z0-9-]{1,40}: \S", re.MULTILINE)

# Local parts that are the reporting system, never the failed recipient.
SYSTEM_LOCALS = frozenset(
    {
        "mailer-daemon",
        "mailerdaemon",
        "mail-daemon",
        "maildaemon",
        "postmaster",
        "mdaemon",
        "mmdf",
        "root",
        "daemon",
        "noreply",
        "no-reply",
        "donotreply",
        "do-not-reply",
        "abuse",
        "hostmaster",
        "webmaster",
        "helpdesk",
        "help-desk",
        "help",
        "support",
        "it-support",
        "servicedesk",
        "service-desk",
        "sysadmin",
        "mailadmin",
        "mail-admin",
        "staff",
        "complaints",
        "fbl",
    }
)

DELAY_TEXT = cls._compile(phrases.DELAY_TEXT)
DELAY_SUBJECT = re.compile(
    r"delay|warning|still being retried|verz[öo]gert|retard|retrasad|ritard|atras|vertraag|"
    r"op[oó][zź]n|задерж|遅延|延迟|延遲",
    re.IGNORECASE,
)
PERMANENT_TEXT = re.compile(
    r"permanent|fatal|could not be delivered|couldn't be delivered|was not delivered|"
    r"giving up|gave up|has been returned|undeliverable",
    re.IGNORECASE,
)
# Addresses that are not the failed recipient, by the words just before them:
# the sender ("message from x to y", "Sender: x") and whom to ask for help.
_NOT_RECIPIENT_BEFORE = re.compile(
    r"(?:\bfrom|sender|return-path|reply-to|mail from)\s*:?\s*<?$|"
    r"\b(?:contact|write to|e-?mail|mail to|reach)\b"
    r"(?:\s+(?:us|our|your|the|help|desk|at|team|administrator|postmaster|support|service))*"
    r"\s*:?\s*<?$"
)
# A header line of a returned message quoted with "> " (not an SMTP
# transcript's ">>> RCPT TO:").
_QUOTED_HEADER = re.compile(r"^\s*>\s?[A-Za-z][A-Za-z-]*:\s")
# A reply code, also one that a wrapped line left at its end ("said: 550").
_REPLY_LINE = re.compile(
    r"(?<![\d.])[245]\d\d[ -]|(?<![\d.])[245]\.\d{1,3}\.\d{1,3}|(?:said:|^)\s*[245]\d\d$"
)


@dataclass(slots=True)
class Candidate:
    email: str
    segment: str


def split_original(text: str) -> tuple[str, str]:
    """(human-readable notice, returned message) of a single-part notice."""
    match = ORIGINAL_MARKER.search(text)
    if match is None:
        return text, ""
    return text[: match.start()], text[match.start() :]


def inline_original_headers(text: str) -> str:
    """The header block of a message quoted after a marker, if any."""
    match = _HEADER_START.search(text)
    if match is None:
        return ""
    block = text[match.start() :]
    end = block.find("\n\n")
    return block if end < 0 else block[:end]


def find_candidates(text: str, exclude: Iterable[str], bounce_local: str) -> list[Candidate]:
    excluded = {address.lower() for address in exclude}
    lines = text.split("\n")
    per_line: list[list[str]] = []
    order: list[str] = []
    system: list[str] = []
    for line in lines:
        found: list[str] = []
        if _QUOTED_HEADER.match(line):
            per_line.append(found)
            continue
        for match in ADDRESS.finditer(line):
            address = clean_address(match.group(0))
            local = address.partition("@")[0]
            if address in excluded or local == bounce_local or local.startswith(bounce_local + "+"):
                continue
            before = line[max(0, match.start() - 40) : match.start()].lower()
            if "message-id" in before[-12:] or before.endswith(("mailto:", "/")):
                continue
            if _NOT_RECIPIENT_BEFORE.search(before):
                # Named as the sender or the help desk: never a failed
                # recipient, unless nothing else is (then ``system``).
                if address not in system and address not in order:
                    system.append(address)
                continue
            found.append(address)
            if address not in order and address not in system:
                (system if local in SYSTEM_LOCALS else order).append(address)
        per_line.append(found)
    if not order:
        order = system
    wanted = set(order[:50])
    segments: dict[str, list[str]] = {address: [] for address in wanted}
    for index, found in enumerate(per_line):
        mine = [address for address in found if address in wanted]
        if not mine:
            continue
        segment = [lines[index]]
        for later in range(index + 1, min(index + 12, len(lines))):
            others = [a for a in per_line[later] if a in wanted and a not in mine]
            if others:
                break
            segment.append(lines[later])
        for address in dict.fromkeys(mine):
            segments[address].append("\n".join(segment))
    return [Candidate(address, "\n".join(segments[address])) for address in order[:50]]


def has_reason(text: str) -> bool:
    flat = " ".join(text.split()).lower()
    if _REPLY_LINE.search(flat):
        return True
    return any(
        pattern.search(flat)
        for pattern in (
            cls.MAILBOX_FULL,
            cls.MESSAGE_TOO_LARGE,
            cls.USER_UNKNOWN,
            cls.USER_UNKNOWN_WEAK,
            cls.HOST_UNKNOWN,
            cls.MAILBOX_DISABLED,
            cls.MAILBOX_MOVED,
            cls.SPAM_OR_BLOCK,
            cls.GREYLISTED,
            cls.RATE_LIMITED,
            cls.MAIL_LOOP,
            cls.DNS_TEMPORARY,
            cls.POLICY,
            cls.TEMPORARY,
        )
    )


def diagnostic_block(segment: str) -> str | None:
    """The most informative lines of a segment: the first SMTP reply (with
    its wrapped continuation), else the first line that gives a reason."""
    lines = segment.split("\n")
    start = next((i for i, line in enumerate(lines) if _REPLY_LINE.search(line)), None)
    if start is None:
        start = next((i for i, line in enumerate(lines) if has_reason(line)), None)
    if start is None:
        return None
    block = [lines[start].strip()]
    for line in lines[start + 1 : start + 5]:
        stripped = line.strip()
        if not stripped or stripped.startswith(("<<<", ">>>", "---", "***")):
            break
        if re.match(r"[245]\d\d[ -]", stripped) and not stripped.startswith(block[0][:4]):
            break  # the next reply in a transcript, not a continuation
        if ADDRESS.search(stripped) and not line[:1].isspace():
            break
        block.append(stripped)
    return " ".join(" ".join(block).split())[:1000]


def is_delay_notice(subject: str, text: str) -> bool:
    head = text[:4000].lower()
    if DELAY_TEXT.search(head):
        return True
    return bool(DELAY_SUBJECT.search(subject)) and not PERMANENT_TEXT.search(head)


_QUOTED_LINE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_ATTRIBUTION = re.compile(r"^[^\n]{0,200}\bwrote:[ \t]*$", re.MULTILINE | re.IGNORECASE)


def unquoted(text: str) -> str:
    """``text`` without a reply's quotation: lines starting with ``>`` and
    everything after an "On ..., X wrote:" attribution line."""
    match = _ATTRIBUTION.search(text)
    if match:
        text = text[: match.start()]
    return _QUOTED_LINE.sub("", text)
