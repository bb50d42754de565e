"""Read one returned message: what it is, about whom, and why.

``parse_message`` is the public entry point (the inbound server, the mailbox
poller and the ``parse_bounce`` command call it); ``classify_smtp_reply`` is
the same classification for a refusal seen during the SMTP transaction.

Order of evidence: a feedback report (ARF, SES complaint) first, then a
machine-readable DSN, then the older complaint forms, then the notice's text;
auto-reply headers and subjects only count when nothing says "bounce", since
a DSN often carries ``Auto-Submitted`` too. Which delivery it is about comes
from our VERP token, wherever it survived (see ``_verp_token``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses

from django.conf import settings

from bounces import arf, autoreply, dsn, heuristics, ses
from bounces.classify import (
    _compile,
    classify_failure,
    classify_smtp_reply,
    find_enhanced_status,
)
from bounces.decoding import (
    decode_bytes,
    header,
    header_text,
    normalise_newlines,
    parse_bytes,
    parse_headers,
    part_text,
    payload_bytes,
)
from bounces.i18n_phrases import BOUNCE_BODY, BOUNCE_SUBJECT
from bounces.types import BounceReport, Kind, RecipientResult, strongest
from delivery import verp

__all__ = ["BounceReport", "RecipientResult", "classify_smtp_reply", "parse_message"]

logger = logging.getLogger(__name__)

# What we read of a message. The notice and its delivery-status part come
# first; beyond this is the returned message's body and attachments, which
# are not needed to classify and would make one message cost tens of ms.
MAX_BYTES = 256_000
MAX_PARTS = 64
# What we scan of one decoded text part, and of one line of it: patterns
# with ``^.*`` are quadratic on a line of hundreds of kilobytes.
MAX_TEXT = 64_000
MAX_LINE = 1_000
_LONG_LINE = re.compile(rf"^[^\n]{{{MAX_LINE}}}[^\n]+", re.MULTILINE)
# A long base64 body (an attachment of the returned message): the stdlib
# parser reads it line by line, so only its first lines are kept.
_BASE64_LINE = rb"[A-Za-z0-9+/=]{60,100}\n"
_BASE64_RUN = re.compile(rb"(?<=\n)((?:" + _BASE64_LINE + rb"){200})(?:" + _BASE64_LINE + rb")+")
_ENCODED = ("base64", "quoted-printable")
# Reports nested in other messages (forwarded bounces, list-manager and
# gateway wrappers) are unwrapped this many levels deep.
MAX_NESTING = 2

BOUNCE_SUBJECT_RE = _compile(BOUNCE_SUBJECT)
BOUNCE_BODY_RE = _compile(BOUNCE_BODY)
DAEMON_FROM = re.compile(
    r"mailer-?daemon|mail-?daemon|postmaster|mail delivery|delivery subsystem|"
    r"mail administrator|mail system|mdaemon|delivery status|"
    r"microsoft outlook|e-?mail delivery|maildelivery|returned mail",
    re.IGNORECASE,
)
_REPLY_SUBJECT = re.compile(r"\s*(?:re|aw|sv|vs|antw|odp|r|rif|res)\s*:", re.IGNORECASE)
_VERP_TOKEN_RE = r"(t?[0-9a-f]{1,16}-[a-z2-7]{10})"  # noqa: S105 - a pattern, not a secret
# Searched in lower-cased text (tokens are lower-case anyway).
_REF_HEADER = re.compile(r"x-postino-ref:\s*" + _VERP_TOKEN_RE)
_CAMPAIGN_HEADER = re.compile(r"x-postino-campaign:\s*(\d{1,18})")
_FEEDBACK_ID = re.compile(r"feedback-id:\s*(\d{1,18}):campaign:postino")


@dataclass(slots=True)
class _Parts:
    """What a walk over the MIME tree found."""

    delivery_status: list[str] = field(default_factory=list)
    feedback: list[str] = field(default_factory=list)
    human: list[str] = field(default_factory=list)  # text outside returned messages
    originals: list[Message] = field(default_factory=list)  # returned headers
    everything: list[str] = field(default_factory=list)  # for token searches
    attached: list[Message] = field(default_factory=list)  # top-level message/rfc822
    count: int = 0


def parse_message(raw: bytes, *, envelope_recipient: str | None = None) -> BounceReport:
    """Classify a bounce, complaint, auto-reply or other returned message."""
    try:
        return _parse(raw[:MAX_BYTES], envelope_recipient)
    except Exception:
        # Mail from the internet is adversarial and the stdlib parser has
        # corner cases that raise; a message we cannot read must not stop the
        # queue it came from.
        logger.exception("could not parse a returned message")
        return BounceReport(kind="not_bounce")


def _walk(part: Message, parts: _Parts, *, inside_original: bool, depth: int) -> None:
    parts.count += 1
    if parts.count > MAX_PARTS or depth > 6:
        return
    ctype = part.get_content_type()
    payload = part.get_payload()
    if part.is_multipart() and ctype.startswith("multipart/"):
        for sub in payload if isinstance(payload, list) else []:
            if isinstance(sub, Message):
                _walk(sub, parts, inside_original=inside_original, depth=depth + 1)
        return
    if ctype in ("message/delivery-status", "message/global-delivery-status"):
        text = _capped(decode_bytes(payload_bytes(part), part.get_content_charset() or "utf-8"))
        parts.everything.append(text)
        if not inside_original:
            parts.delivery_status.append(text)
        return
    if ctype == "message/feedback-report":
        text = decode_bytes(payload_bytes(part), part.get_content_charset())
        parts.everything.append(text)
        if not inside_original:
            parts.feedback.append(text)
        return
    if ctype in ("message/rfc822", "message/global", "message/news"):
        if str(part.get("content-transfer-encoding", "")).strip().lower() in _ENCODED:
            # RFC 2046 forbids encoding a message/rfc822 part, some feedback
            # loops do it anyway: the parsed "message" is then base64 text.
            payload = [parse_bytes(payload_bytes(part))]
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            inner = payload[0]
            parts.originals.append(inner)
            if not inside_original:
                parts.attached.append(inner)
            parts.everything.append("\n".join(f"{k}: {v}" for k, v in inner.items()))
            _walk(inner, parts, inside_original=True, depth=depth + 1)
        elif isinstance(payload, str):
            text = decode_bytes(payload_bytes(part), part.get_content_charset())
            parts.originals.append(parse_headers(text))
            parts.everything.append(text)
        return
    if ctype in ("text/rfc822-headers", "message/rfc822-headers", "message/global-headers"):
        text = decode_bytes(payload_bytes(part), part.get_content_charset())
        parts.originals.append(parse_headers(text.lstrip()))
        parts.everything.append(text)
        return
    if ctype.startswith("text/") or ctype in ("application/json", "application/octet-stream"):
        if ctype == "application/octet-stream" and part.get_filename():
            return
        text = _capped(part_text(part))
        parts.everything.append(text)
        if not inside_original:
            parts.human.append(text)


def _capped(text: str) -> str:
    text = text[:MAX_TEXT]
    if len(text) > MAX_LINE:
        text = _LONG_LINE.sub(lambda m: m.group(0)[:MAX_LINE], text)
    return text


def _addresses(msg: Message, *names: str) -> list[str]:
    values = [header(msg, name) for name in names]
    return [
        dsn.clean_address(address)
        for _name, address in getaddresses([v for v in values if v])
        if "@" in address
    ]


def _parse(raw: bytes, envelope_recipient: str | None) -> BounceReport:
    raw = normalise_newlines(raw)
    if len(raw) > MAX_BYTES // 2:
        raw = _BASE64_RUN.sub(rb"\1", raw)
    msg = parse_bytes(raw)
    report, about, parts = _read(msg, level=0)
    report.subject = header(msg, "subject") or None
    _attach_identity(report, about, parts, envelope_recipient, raw)
    return report


def _read(msg: Message, *, level: int) -> tuple[BounceReport, Message, _Parts]:
    """The report, and the message and parts it was read from: ``msg``, or a
    report attached to it when ``msg`` is only a wrapper."""
    parts = _Parts()
    _walk(msg, parts, inside_original=False, depth=0)
    subject = header(msg, "subject")
    human = "\n".join(parts.human)
    notice, quoted = heuristics.split_original(human)
    if quoted and not parts.originals:
        inline = heuristics.inline_original_headers(quoted)
        if inline:
            parts.originals.append(parse_headers(inline))

    report = _decide(msg, parts, subject, notice)
    if level < MAX_NESTING and parts.attached and not _is_machine_report(msg, parts, report):
        # A wrapper (a forwarded bounce, Mailman's "Uncaught bounce
        # notification", a gateway's "delivery failure" with the real notice
        # attached): a report inside says more than the wrapper's own words.
        # An attached copy of our own mail reads as not_bounce and is ignored.
        for inner in parts.attached[:2]:
            found, inner_msg, inner_parts = _read(inner, level=level + 1)
            if found.kind == "complaint" or (
                found.recipients and found.kind in ("hard", "soft", "delay")
            ):
                return found, inner_msg, inner_parts
    return report, msg, parts


def _is_machine_report(msg: Message, parts: _Parts, report: BounceReport) -> bool:
    """Whether ``msg`` is itself a DSN, ARF or SES report (then what it
    attaches is the returned message, not a report to unwrap)."""
    if parts.delivery_status or parts.feedback or report.kind == "complaint":
        return True
    if msg.get_content_type() == "multipart/report":
        return True
    return any(r.status and r.action and r.action != "failed" for r in report.recipients)


def _decide(msg: Message, parts: _Parts, subject: str, notice: str) -> BounceReport:
    report_type = str(msg.get_param("report-type", "") or "").lower()

    # 1. Complaints in ARF (also when the report part is mislabelled).
    feedback_text = parts.feedback[0] if parts.feedback else None
    if feedback_text is None:
        for text in parts.human:
            if arf.looks_like_feedback_report(text):
                feedback_text = text
                break
    if feedback_text is not None or report_type == "feedback-report":
        return _complaint(parts, arf.parse_feedback_report(feedback_text or ""))

    # 2. Amazon SES notifications mailed as JSON.
    for text in parts.human:
        if ses.looks_like_ses(text):
            ses_report = ses.parse_ses(text)
            if ses_report is not None:
                return ses_report

    # 3. RFC 3464 delivery status notifications.
    dsn_texts = parts.delivery_status or [
        t for t in parts.human if dsn.looks_like_delivery_status(t)
    ]
    recipients: list[RecipientResult] = []
    reporting_mta = None
    for text in dsn_texts:
        status = dsn.parse_delivery_status(text, fallback_text=notice[:3000])
        recipients.extend(status.recipients)
        reporting_mta = reporting_mta or status.reporting_mta
    if recipients:
        return BounceReport(
            kind=strongest([r.kind for r in recipients]),
            recipients=recipients,
            reporting_mta=reporting_mta,
        )

    # 4. The old Hotmail/JMRP complaint form: an attached original, no report.
    head_text = "\n".join(f"{k}: {v}" for k, v in msg.items())
    if parts.originals and (
        arf.JMRP_MARKERS.search(head_text)
        or any(o.get("x-hmxmroriginalrecipient") for o in parts.originals)
    ):
        complaint = arf.FeedbackReport(feedback_type="abuse", recipients=[])
        for original in parts.originals:
            address = dsn.address_from_field(header(original, "x-hmxmroriginalrecipient"))
            if address and not arf.is_redacted(address):
                complaint.recipients.append(address)
        return _complaint(parts, complaint)

    # 5. Read receipts and other reports that are not about delivery.
    if report_type == "disposition-notification":
        return BounceReport(kind="not_bounce")

    # 6. Text notices, told apart from auto-replies.
    failed_header = header(msg, "x-failed-recipients")
    from_header = header(msg, "from")
    return_path = header(msg, "return-path")
    strong = bool(
        failed_header
        or DAEMON_FROM.search(from_header)
        or BOUNCE_SUBJECT_RE.search(subject.lower())
        or report_type == "delivery-status"
        or msg.get("x-ms-exchange-message-is-ndr") is not None
    )
    is_autoreply = autoreply.autoreply_headers(msg)
    if is_autoreply and not (failed_header or DAEMON_FROM.search(from_header)):
        return BounceReport(kind="autoreply")
    null_sender = return_path.strip() in ("<>", "")
    # A person's reply ("Re: ...") may talk about an error 550 and quote
    # our mail: only the words above the quotation count, and none at all
    # when it comes from a person's address.
    body_head = heuristics.unquoted(notice[:6000]).lower()
    weak = (
        bool(BOUNCE_BODY_RE.search(body_head))
        and (null_sender or not _REPLY_SUBJECT.match(subject))
        and (
            null_sender
            or "auto" in header(msg, "auto-submitted").lower()
            or heuristics.has_reason(body_head)
        )
    )
    if not (strong or weak):
        if (
            autoreply.autoreply_subject(subject)
            or autoreply.rule_reply_headers(msg)
            or autoreply.calendar_reply(parts.human)
        ):
            return BounceReport(kind="autoreply")
        return BounceReport(kind="not_bounce")
    if not strong and autoreply.autoreply_subject(subject):
        return BounceReport(kind="autoreply")
    report = _text_bounce(msg, parts, subject, notice, failed_header)
    if not strong and not null_sender and not report.recipients:
        # Words alone ("could not be delivered", "spam") in mail from a real
        # sender that names nobody: a provider's newsletter, not a bounce.
        return BounceReport(kind="not_bounce")
    return report


def _text_bounce(
    msg: Message, parts: _Parts, subject: str, notice: str, failed_header: str
) -> BounceReport:
    bounce_local = str(settings.POSTINO["BOUNCE_LOCALPART"]).lower()
    exclude = set(_addresses(msg, "from", "to", "cc", "reply-to", "return-path", "sender"))
    original_to: list[str] = []
    for original in parts.originals:
        exclude.update(_addresses(original, "from", "sender", "reply-to", "return-path"))
        original_to.extend(_addresses(original, "to", "cc"))
    exclude.difference_update(original_to)
    delay = heuristics.is_delay_notice(subject, notice)

    candidates = heuristics.find_candidates(notice, exclude, bounce_local)
    if failed_header:
        listed = [dsn.clean_address(a) for a in re.split(r"[,\s]+", failed_header) if "@" in a]
        by_email = {c.email: c for c in candidates}
        candidates = [by_email.get(a, heuristics.Candidate(a, "")) for a in listed]
    elif original_to and len(candidates) > 1:
        # The returned message names who it was for; other addresses in the
        # notice are help desks, aliases and the like.
        matching = [c for c in candidates if c.email in original_to]
        candidates = matching or candidates
    if not candidates and original_to:
        candidates = [
            heuristics.Candidate(a, "")
            for a in dict.fromkeys(original_to)
            if not a.startswith(bounce_local + "+")
        ][:10]

    whole = notice[:8000]
    recipients = []
    for candidate in candidates:
        evidence = candidate.segment if heuristics.has_reason(candidate.segment) else whole
        diagnostic = heuristics.diagnostic_block(evidence)
        if diagnostic and heuristics.has_reason(diagnostic):
            # The reply itself; the rest of the segment may be a transcript
            # with other replies (503 Need RCPT...) that would mislead.
            evidence = diagnostic
        kind: Kind
        kind, status = classify_failure(
            code=None, status=find_enhanced_status(evidence), text=evidence, status_from_text=False
        )
        action = "failed"
        if delay:
            kind = "delay"
            action = "delayed"
            if status and status.startswith("5"):
                status = "4" + status[1:]
        recipients.append(
            RecipientResult(
                email=candidate.email,
                kind=kind,
                status=status,
                action=action,
                diagnostic=diagnostic,
            )
        )
    overall: Kind
    if recipients:
        overall = strongest([r.kind for r in recipients])
    elif delay:
        overall = "delay"
    else:
        overall = classify_failure(code=None, status=None, text=whole)[0]
    return BounceReport(kind=overall, recipients=recipients)


def _complaint(parts: _Parts, feedback: arf.FeedbackReport) -> BounceReport:
    emails = list(feedback.recipients)
    if not emails:
        bounce_local = str(settings.POSTINO["BOUNCE_LOCALPART"]).lower()
        for original in parts.originals:
            for address in _addresses(original, "to"):
                if not arf.is_redacted(address) and not address.startswith(bounce_local + "+"):
                    emails.append(address)
            if emails:
                break
    return BounceReport(
        kind="complaint",
        recipients=[RecipientResult(email=e, kind="complaint") for e in dict.fromkeys(emails)],
        feedback_type=feedback.feedback_type,
        reporting_mta=feedback.reporting_mta,
    )


def _verp_token(
    msg: Message, parts: _Parts, envelope_recipient: str | None, raw_text: str
) -> str | None:
    """Our VERP token (a campaign delivery's or a transactional message's),
    from (in order of trust) the envelope recipient, the bounce's own
    recipient headers, the returned message's headers, and any token quoted
    in the text. Every candidate must carry a valid MAC."""
    if envelope_recipient:
        found = verp.token_in_address(envelope_recipient)
        if found is not None:
            return found
    for name in ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to"):
        for value in msg.get_all(name) or []:
            for _display, address in getaddresses([header_text(value)]):
                found = verp.token_in_address(address) if "@" in address else None
                if found is not None:
                    return found
    for original in parts.originals:
        ref = header(original, "x-postino-ref").strip().lower()
        if ref and verp.is_ours(ref):
            return ref
        for name in ("return-path", "sender", "errors-to"):
            for _display, address in getaddresses([header(original, name)]):
                found = verp.token_in_address(address) if "@" in address else None
                if found is not None:
                    return found
    local = re.escape(str(settings.POSTINO["BOUNCE_LOCALPART"]))
    quoted = re.compile(local.lower() + r"\+" + _VERP_TOKEN_RE + "@")
    for text in _lowered(raw_text, parts):
        for pattern in (_REF_HEADER, quoted):
            for match in pattern.finditer(text):
                if verp.is_ours(match.group(1)):
                    return match.group(1)
    return None


def _lowered(raw_text: str, parts: _Parts) -> Iterator[str]:
    """The raw message, then each decoded part (base64 hides tokens from the
    raw search), lower-cased lazily: most messages stop at the first."""
    yield raw_text.lower()
    for text in parts.everything:
        yield text.lower()


def _attach_identity(
    report: BounceReport,
    msg: Message,
    parts: _Parts,
    envelope_recipient: str | None,
    raw: bytes,
) -> None:
    raw_text = raw.decode("latin-1")
    token = _verp_token(msg, parts, envelope_recipient, raw_text)
    if token is not None:
        report.verp_delivery_id = verp.read_token(token)
        report.verp_tx_id = verp.read_tx_token(token)
    if report.campaign_id is None:
        for original in parts.originals:
            value = header(original, "x-postino-campaign").strip()
            if value.isdigit():
                report.campaign_id = int(value)
                break
    if report.campaign_id is None:
        for text in _lowered(raw_text, parts):
            match = _CAMPAIGN_HEADER.search(text) or _FEEDBACK_ID.search(text)
            if match:
                report.campaign_id = int(match.group(1))
                break
    if report.original_message_id is None:
        for original in parts.originals:
            value = header(original, "message-id").strip()
            if value:
                report.original_message_id = value
                break
