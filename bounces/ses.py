"""Amazon SES notifications forwarded by email (SNS email subscriptions, or
feedback forwarding in JSON): ``notificationType``/``eventType`` Bounce,
Complaint or Delivery."""

from __future__ import annotations

import json
from typing import Any

from bounces.classify import classify_failure, find_basic_code
from bounces.dsn import clean_address
from bounces.types import BounceReport, Kind, RecipientResult, strongest


def looks_like_ses(text: str) -> bool:
    """Also inside an SNS envelope, where the notification is a JSON string
    and its quotes are escaped."""
    if "notificationType" not in text and "eventType" not in text:
        return False
    return any(
        f"{q}notificationType{q}" in text or f"{q}eventType{q}" in text for q in ('"', '\\"')
    ) and ('"mail"' in text or '\\"mail\\"' in text)


def _load(text: str) -> dict[str, Any] | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    candidate = text[start : end + 1]
    try:
        data = json.loads(candidate)
    except ValueError:
        # Mail clients wrap long lines; JSON strings never contain raw newlines.
        try:
            data = json.loads(candidate.replace("\n", ""))
        except ValueError:
            return None
    if isinstance(data, dict) and isinstance(data.get("Message"), str):
        # An SNS envelope around the notification.
        try:
            data = json.loads(data["Message"])
        except ValueError:
            return None
    return data if isinstance(data, dict) else None


def parse_ses(text: str) -> BounceReport | None:
    data = _load(text)
    if data is None:
        return None
    kind_name = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if kind_name == "bounce":
        bounce = data.get("bounce") or {}
        bounce_type = str(bounce.get("bounceType", "")).lower()
        recipients = []
        for entry in bounce.get("bouncedRecipients") or []:
            if not isinstance(entry, dict):
                continue
            diagnostic = str(entry.get("diagnosticCode") or "")
            status = entry.get("status")
            kind: Kind
            if bounce_type == "transient" or bounce_type == "undetermined":
                kind, status = classify_failure(
                    code=find_basic_code(diagnostic), status=status, text=diagnostic
                )
                kind = "soft"
            elif diagnostic or status:
                kind, status = classify_failure(
                    code=find_basic_code(diagnostic.partition(";")[2] or diagnostic),
                    status=status,
                    text=diagnostic + " " + str(bounce.get("bounceSubType", "")),
                )
            else:
                kind = "hard"
            recipients.append(
                RecipientResult(
                    email=clean_address(str(entry.get("emailAddress", ""))) or None,
                    kind=kind,
                    status=status,
                    action=str(entry.get("action") or "failed"),
                    diagnostic=diagnostic.partition(";")[2].strip() or diagnostic or None,
                    remote_mta=bounce.get("remoteMtaIp"),
                )
            )
        fallback: Kind = "soft" if bounce_type in ("transient", "undetermined") else "hard"
        return BounceReport(
            kind=strongest([r.kind for r in recipients], default=fallback),
            recipients=recipients,
            reporting_mta=bounce.get("reportingMTA"),
            original_message_id=message_id,
        )
    if kind_name == "complaint":
        complaint = data.get("complaint") or {}
        recipients = [
            RecipientResult(
                email=clean_address(str(entry.get("emailAddress", ""))), kind="complaint"
            )
            for entry in complaint.get("complainedRecipients") or []
            if isinstance(entry, dict) and entry.get("emailAddress")
        ]
        return BounceReport(
            kind="complaint",
            recipients=recipients,
            feedback_type=str(complaint.get("complaintFeedbackType") or "abuse").lower(),
            original_message_id=message_id,
        )
    if kind_name in ("delivery", "deliverydelay"):
        kind = "delay" if kind_name == "deliverydelay" else "not_bounce"
        section = data.get("delivery") or data.get("deliveryDelay") or {}
        recipients = [
            RecipientResult(
                email=clean_address(str(address)),
                kind=kind,
                action="delayed" if kind == "delay" else "delivered",
            )
            for address in section.get("recipients") or []
        ]
        for entry in section.get("delayedRecipients") or []:
            if isinstance(entry, dict):
                recipients.append(
                    RecipientResult(
                        email=clean_address(str(entry.get("emailAddress", ""))),
                        kind="delay",
                        status=entry.get("status"),
                        action="delayed",
                        diagnostic=entry.get("diagnosticCode"),
                    )
                )
        return BounceReport(kind=kind, recipients=recipients, original_message_id=message_id)
    return None
