"""``manage.py parse_bounce FILE [FILE ...]``: one JSON line per file.

For operators checking why an address was suppressed, and for tooling that
feeds us saved mail. Unreadable files get a line with ``error`` and
``"kind": null``; the exit status is 1 only when no file could be read.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bounces.parser import parse_message

# Bigger files are not mail we would ever have accepted.
MAX_FILE_BYTES = 50 * 1024 * 1024


def report_for_file(path: str) -> dict[str, Any]:
    try:
        file = Path(path)
        if file.stat().st_size > MAX_FILE_BYTES:
            return {"file": path, "kind": None, "error": "file too large"}
        raw = file.read_bytes()
    except OSError as exc:
        return {"file": path, "kind": None, "error": exc.strerror or str(exc)}
    if not raw.strip():
        return {"file": path, "kind": "not_bounce", "error": "empty file", "recipients": []}
    report = parse_message(raw)
    line: dict[str, Any] = {
        "file": path,
        "kind": report.kind,
        "recipients": [
            {
                "email": r.email,
                "kind": r.kind,
                "status": r.status,
                "action": r.action,
                "diagnostic": r.diagnostic,
                "remote_mta": r.remote_mta,
                "original_recipient": r.original_recipient,
            }
            for r in report.recipients
        ],
        "feedback_type": report.feedback_type,
        "verp_delivery_id": report.verp_delivery_id,
        "campaign_id": report.campaign_id,
        "reporting_mta": report.reporting_mta,
        "original_message_id": report.original_message_id,
        "subject": report.subject,
    }
    if report.kind == "not_bounce" and not _looks_like_mail(raw):
        line["error"] = "not an email message"
    return line


def _looks_like_mail(raw: bytes) -> bool:
    head = raw[:4096]
    return b":" in head and (b"\n" in head or b"\r" in head) and b"\x00" not in head


class Command(BaseCommand):
    help = "Parse saved bounce or complaint messages and print one JSON object per file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")

    def handle(self, *args: Any, files: list[str], **options: Any) -> None:
        readable = 0
        for path in files:
            line = report_for_file(path)
            if line["kind"] is not None:
                readable += 1
            self.stdout.write(json.dumps(line, ensure_ascii=False))
        if readable == 0:
            # Not CommandError: the JSON lines above are the useful output.
            sys.exit(1)
