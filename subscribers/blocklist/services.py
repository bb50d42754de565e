"""Adding to and taking from the blocklist."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from postino.actors import signed_in
from subscribers.blocklist import rules
from subscribers.models import BlocklistEntry

# Entries taken in one request; a longer list is an import in blocklist mode.
MAX_ENTRIES = 10_000


@dataclass
class Added:
    created: list[BlocklistEntry] = field(default_factory=list)
    # Values that were on the blocklist already: adding them again changes nothing.
    existing: list[str] = field(default_factory=list)


def add_entries(*, lines: Iterable[str], note: str = "", actor: Any = None) -> Added:
    """Add every line, or none: a line that does not read is reported by its
    number ("entries.3") together with all the others."""
    wanted = [line for line in lines if line.strip()]
    if not wanted:
        raise ValidationError({"entries": "Write at least one address, domain or pattern."})
    if len(wanted) > MAX_ENTRIES:
        raise ValidationError(
            {"entries": f"At most {MAX_ENTRIES:,} entries at once; import a file for more."}
        )
    problems: dict[str, list[str]] = {}
    parsed: dict[str, rules.Rule] = {}
    for number, line in enumerate(wanted, start=1):
        try:
            rule = rules.parse(line)
        except ValidationError as exc:
            problems[f"entries.{number}"] = exc.messages
            continue
        parsed.setdefault(rule.value, rule)
    if problems:
        raise ValidationError(problems)
    existing = set(
        BlocklistEntry.objects.filter(value__in=list(parsed)).values_list("value", flat=True)
    )
    creator = signed_in(actor)
    new = [
        BlocklistEntry(
            kind=rule.kind,
            value=rule.value,
            like_pattern=rule.like_pattern,
            note=note.strip()[:200],
            created_by=creator,
        )
        for value, rule in parsed.items()
        if value not in existing
    ]
    with transaction.atomic():
        # ignore_conflicts: the same entry added at the same moment by someone else.
        BlocklistEntry.objects.bulk_create(new, ignore_conflicts=True)
    created = list(
        BlocklistEntry.objects.filter(value__in=[e.value for e in new]).order_by("value")
    )
    return Added(created=created, existing=sorted(existing))


def remove_entry(*, entry: BlocklistEntry) -> None:
    """From now on the entry no longer blocks; a suppression (bounce,
    complaint, unsubscribe) of the same address is separate and stays."""
    entry.delete()
