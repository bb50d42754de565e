"""Feedback-loop complaints: ARF (RFC 5965), auth-failure reports (RFC 6591)
and the older forms some providers still send (Hotmail/JMRP, bare fields)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bounces.dsn import address_from_field, parse_field_blocks

# Providers that redact the complainer replace the local part (or all of it).
_REDACTED = re.compile(
    r"^(?:x+|\*+|redacted|removed|anonymi[sz]ed|hidden|undisclosed[-\w]*|"
    r"[a-f0-9]{32,64}|unknown)@|@(?:redacted|example\.invalid)",
    re.IGNORECASE,
)
# A field that only a feedback report has next to Feedback-Type; Version is
# required by RFC 5965 but several providers omit it (and User-Agent too).
_ARF_COMPANION = re.compile(
    r"^(?:user-agent|version|original-mail-from|original-rcpt-to|arrival-date|"
    r"reported-domain|source-ip|removal-recipient)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
_FEEDBACK_TYPE = re.compile(r"^feedback-type\s*:\s*([\w-]+)", re.IGNORECASE | re.MULTILINE)


@dataclass(slots=True)
class FeedbackReport:
    feedback_type: str
    recipients: list[str]
    reporting_mta: str | None = None


def is_redacted(address: str) -> bool:
    return bool(_REDACTED.search(address)) or "*" in address.partition("@")[0]


def parse_feedback_report(text: str) -> FeedbackReport:
    fields: dict[str, str] = {}
    for block in parse_field_blocks(text):
        for key, value in block.items():
            fields.setdefault(key, value)
    feedback_type = (fields.get("feedback-type") or "abuse").strip().lower().split()[0]
    recipients = []
    for key in ("original-rcpt-to", "removal-recipient"):
        address = address_from_field(fields.get(key, ""))
        if address and not is_redacted(address) and address not in recipients:
            recipients.append(address)
    reporter = fields.get("reporting-mta")
    if reporter and ";" in reporter:
        reporter = reporter.partition(";")[2].strip()
    return FeedbackReport(
        feedback_type=feedback_type.strip(";,"),
        recipients=recipients,
        reporting_mta=reporter or None,
    )


def looks_like_feedback_report(text: str) -> bool:
    """ARF fields in a part not labelled message/feedback-report."""
    head = text[:2000]
    return bool(_FEEDBACK_TYPE.search(head) and _ARF_COMPANION.search(head))


# The old Hotmail/Outlook.com Junk Mail Reporting Program mails the original
# as an attachment, without a feedback-report part.
JMRP_MARKERS = re.compile(
    r"x-hmxmroriginalrecipient|^from:.*staff@hotmail\.com|complaint about message from",
    re.IGNORECASE | re.MULTILINE,
)
