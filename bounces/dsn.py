"""RFC 3464 delivery status notifications: the machine-readable part.

``parse_field_blocks`` reads the ``message/delivery-status`` body (and the
same syntax in ``message/feedback-report``) into blocks of fields; it is
lenient on purpose: keys in any case, folded lines, blocks that a broken MTA
did not separate with a blank line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bounces.classify import classify_failure, find_basic_code, more_specific_status
from bounces.classify import find_enhanced_status as _find_status
from bounces.types import Kind, RecipientResult

_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_ADDRESS = re.compile(
    r"[\w!#$%&'*+/=?^`{|}~.-]*[\w'+=-]@"
    r"(?:\[[0-9A-Fa-f:.IPv]+\]|[\w-]+(?:\.[\w-]+)+)",
    re.UNICODE,
)
_XTEXT = re.compile(r"\+([0-9A-Fa-f]{2})")
_UNITEXT = re.compile(r"\\x\{([0-9A-Fa-f]{1,6})\}")


def parse_field_blocks(text: str) -> list[dict[str, str]]:
    """Blocks of ``name: value`` fields, names lower-cased, folds unfolded."""
    blocks: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last_key: str | None = None
    for line in text.split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current = {}
            last_key = None
            continue
        if line[0] in " \t" and last_key is not None:
            current[last_key] += " " + line.strip()
            continue
        match = _FIELD.match(line)
        if match is None:
            last_key = None
            continue
        key, value = match.group(1).lower(), match.group(2).strip()
        if _starts_new_recipient(key, current):
            blocks.append(current)
            current = {}
        if key in current:
            # Repeated field in one block (some MTAs repeat Diagnostic-Code):
            # keep the first, it is the one the block is about.
            last_key = None
            continue
        current[key] = value
        last_key = key
    if current:
        blocks.append(current)
    return blocks


def _starts_new_recipient(key: str, current: dict[str, str]) -> bool:
    """Some MTAs put recipients one after the other without a blank line."""
    if key == "final-recipient":
        return "final-recipient" in current
    if key == "original-recipient":
        return "original-recipient" in current or (
            "final-recipient" in current and "action" in current
        )
    return False


def address_from_field(value: str) -> str | None:
    """``rfc822; <User@Example.COM>`` (or any of its broken variants) to
    ``user@example.com``; ``None`` if there is no address in it."""
    if not value:
        return None
    kind, sep, rest = value.partition(";")
    if not sep:
        rest = value
    elif kind.strip().lower() in ("utf-8", "utf8"):
        rest = _UNITEXT.sub(lambda m: chr(int(m.group(1), 16)), rest)
    rest = _XTEXT.sub(lambda m: chr(int(m.group(1), 16)), rest) if "+" in rest else rest
    match = _ADDRESS.search(rest)
    if match is None:
        return None
    return clean_address(match.group(0))


def clean_address(address: str) -> str:
    return address.strip().strip("<>\"'.,;:()[]").lower()


@dataclass(slots=True)
class DeliveryStatus:
    reporting_mta: str | None = None
    recipients: list[RecipientResult] = field(default_factory=list)


def _strip_type(value: str | None) -> str | None:
    """``smtp; 550 ...`` to ``550 ...``; ``dns; mx.example.com`` to the host."""
    if not value:
        return None
    head, sep, rest = value.partition(";")
    if sep and re.fullmatch(r"\s*[A-Za-z0-9-]{1,16}\s*", head):
        value = rest
    value = " ".join(value.split())
    return value or None


def recipient_from_block(block: dict[str, str], *, fallback_text: str = "") -> RecipientResult:
    final = address_from_field(block.get("final-recipient", ""))
    original = address_from_field(block.get("original-recipient", ""))
    if final is None:
        final = original or address_from_field(block.get("x-actual-recipient", ""))
    action = (block.get("action") or "").strip().lower().split()
    action_name = action[0].strip(";,.()") if action else None
    status_field = _find_status(block.get("status", ""))
    diagnostic = _strip_type(block.get("diagnostic-code"))
    remote_mta = _strip_type(block.get("remote-mta"))
    if action_name is None and status_field:
        action_name = {"2": "delivered", "4": "delayed", "5": "failed"}[status_field[0]]
    kind: Kind
    status = more_specific_status(status_field, _find_status(diagnostic or ""))
    if action_name in ("delivered", "relayed", "expanded"):
        kind = "not_bounce"
    elif action_name == "delayed":
        kind = "delay"
        if diagnostic and (status is None or status.endswith(".0.0")):
            # As for failures: "4.0.0" over "452 Mailbox full" is 4.2.2.
            _kind, inferred = classify_failure(
                code=find_basic_code(diagnostic), status=status or "4.0.0", text=diagnostic
            )
            if inferred and inferred.startswith("4"):
                status = inferred
    else:
        action_name = action_name or "failed"
        evidence = diagnostic or ""
        if not evidence and (status is None or status.endswith(".0.0")):
            # No reason in the DSN: the human-readable part may say it.
            evidence = fallback_text
        kind, status = classify_failure(
            code=find_basic_code(diagnostic or ""), status=status, text=evidence
        )
    return RecipientResult(
        email=final,
        kind=kind,
        status=status,
        action=action_name,
        diagnostic=diagnostic,
        remote_mta=remote_mta,
        original_recipient=original if original and original != final else None,
    )


def is_recipient_block(block: dict[str, str]) -> bool:
    return "final-recipient" in block or "original-recipient" in block


def parse_delivery_status(text: str, *, fallback_text: str = "") -> DeliveryStatus:
    blocks = parse_field_blocks(text)
    result = DeliveryStatus()
    for block in blocks:
        if "reporting-mta" in block and result.reporting_mta is None:
            result.reporting_mta = _strip_type(block["reporting-mta"])
        if is_recipient_block(block):
            result.recipients.append(recipient_from_block(block, fallback_text=fallback_text))
    return result


def looks_like_delivery_status(text: str) -> bool:
    """DSN fields in a part not labelled as one (forwarded or broken DSNs)."""
    return bool(
        re.search(r"^(?:final|original)-recipient\s*:", text, re.IGNORECASE | re.MULTILINE)
        and re.search(r"^(?:action|status)\s*:", text, re.IGNORECASE | re.MULTILINE)
    )
