"""What a segment says, checked and typed before any SQL is written.

A definition is JSON (the API's body, the builder's hidden field)::

    {"match": "all", "conditions": [
        {"field": "attributes.city", "op": "eq", "value": "Berlin"},
        {"match": "any", "conditions": [
            {"field": "list", "op": "in", "value": [3, 4]},
            {"field": "subscribed_at", "op": "gt", "value": 30}
        ]}
    ]}

``parse`` turns it into a tree of ``Group`` and ``Condition``, or raises one
``ValidationError`` naming every problem by its place ("conditions.2.1.value"),
so the builder and the API can point at the row that is wrong.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

# A segment is read by people; these bounds keep its SQL small enough to plan
# quickly and stop a pasted spreadsheet from becoming a 100,000-term query.
MAX_DEPTH = 4
MAX_CONDITIONS = 200
MAX_IN_VALUES = 1000
MAX_TEXT = 320
MAX_DAYS = 36500

ATTRIBUTE_PREFIX = "attributes."
# Any key an import or the API may have written, but no quote or backslash:
# SQLite addresses the key inside a JSON path string.
ATTRIBUTE_KEY = re.compile(r'[^"\\\x00-\x1f]{1,64}')

SUBSCRIPTION_STATUSES = ("confirmed", "unconfirmed", "unsubscribed")
# "On a list" means still on it: confirmed, or waiting for confirmation.
MEMBER_STATUSES = ("confirmed", "unconfirmed")

TEXT_OPS = ("eq", "neq", "contains", "not_contains", "in", "not_in")
OPS: dict[str, tuple[str, ...]] = {
    "email": TEXT_OPS,
    "domain": TEXT_OPS,
    "name": (*TEXT_OPS, "set"),
    "attribute": (*TEXT_OPS, "gt", "lt", "set"),
    "list": ("eq", "neq", "in", "not_in"),
    "status": ("eq", "neq", "in", "not_in"),
    "subscribed_at": ("gt", "lt"),
    "created_at": ("gt", "lt"),
    "received": ("in_last_days", "not_in_last_days"),
    "opened": ("in_last_days", "not_in_last_days"),
    "clicked": ("in_last_days", "not_in_last_days"),
}
# Fields whose value is a number of days back.
WITHIN_DAYS = ("received", "opened", "clicked")
FIELD_NAMES = (
    "email",
    "domain",
    "name",
    "attributes.<key>",
    "list",
    "status",
    "subscribed_at",
    "created_at",
    "received",
    "opened",
    "clicked",
)

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Condition:
    field: str  # a key of OPS
    op: str
    # Typed by field and op: str, a number, bool, a tuple of those, a datetime
    # (dates) or an int (days, list ids).
    value: Any
    key: str = ""  # the attribute's name, for field "attribute"
    lists: tuple[int, ...] = ()  # list ids a subscription condition is limited to
    statuses: tuple[str, ...] = ()  # subscription statuses it is limited to


@dataclass(frozen=True)
class Group:
    match: str  # "all" or "any"
    conditions: tuple[Condition | Group, ...]


class _Problems:
    def __init__(self) -> None:
        self.by_place: dict[str, list[str]] = {}
        self.count = 0

    def add(self, place: str, message: str) -> None:
        self.by_place.setdefault(place, []).append(message)


def parse(definition: Any) -> Group:
    """The checked tree of a definition, or a ValidationError naming each problem."""
    problems = _Problems()
    group = _group(definition, "", 1, problems)
    if problems.by_place:
        raise ValidationError(problems.by_place)
    assert group is not None  # no problems means a group was read
    return group


def list_ids(group: Group) -> set[int]:
    """Every mailing list id the definition names (checked to exist by services)."""
    found: set[int] = set()
    for condition in walk(group):
        if condition.field == "list":
            found.update(condition.value)
        found.update(condition.lists)
    return found


def walk(group: Group) -> Iterator[Condition]:
    for item in group.conditions:
        if isinstance(item, Group):
            yield from walk(item)
        else:
            yield item


def _place(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _group(raw: Any, prefix: str, depth: int, problems: _Problems) -> Group | None:
    if not isinstance(raw, dict):
        problems.add(
            prefix or "definition", 'Expected {"match": "all" or "any", "conditions": [...]}.'
        )
        return None
    unknown = sorted(set(raw) - {"match", "conditions"})
    if unknown:
        problems.add(prefix or "definition", f"Unknown keys: {', '.join(unknown)}.")
    match = raw.get("match", "all")
    if match not in ("all", "any"):
        problems.add(
            _place(prefix, "match"), 'Use "all" (every condition) or "any" (at least one).'
        )
    items = raw.get("conditions")
    where = _place(prefix, "conditions")
    if not isinstance(items, list) or not items:
        problems.add(where, "Add at least one condition.")
        return None
    conditions: list[Condition | Group] = []
    for index, item in enumerate(items, start=1):
        place = f"{where}.{index}"
        problems.count += 1
        if problems.count > MAX_CONDITIONS:
            problems.add(where, f"A segment holds at most {MAX_CONDITIONS} conditions.")
            break
        if isinstance(item, dict) and "conditions" in item:
            if depth >= MAX_DEPTH:
                problems.add(place, f"Groups nest at most {MAX_DEPTH} deep.")
                continue
            nested = _group(item, place, depth + 1, problems)
            if nested is not None:
                conditions.append(nested)
            continue
        condition = _condition(item, place, problems)
        if condition is not None:
            conditions.append(condition)
    return Group(match=str(match), conditions=tuple(conditions))


def _condition(raw: Any, place: str, problems: _Problems) -> Condition | None:
    if not isinstance(raw, dict):
        problems.add(place, 'Expected {"field", "op", "value"} or a nested group.')
        return None
    unknown = sorted(set(raw) - {"field", "op", "value", "list", "status"})
    if unknown:
        problems.add(place, f"Unknown keys: {', '.join(unknown)}.")
    field = raw.get("field")
    key = ""
    if not isinstance(field, str) or not field:
        problems.add(f"{place}.field", f"Choose a field: {', '.join(FIELD_NAMES)}.")
        return None
    if field.startswith(ATTRIBUTE_PREFIX):
        key = field[len(ATTRIBUTE_PREFIX) :]
        if not ATTRIBUTE_KEY.fullmatch(key):
            problems.add(
                f"{place}.field",
                "Name the attribute after 'attributes.' (up to 64 characters, no quotes).",
            )
            return None
        field = "attribute"
    elif field not in OPS or field == "attribute":
        problems.add(
            f"{place}.field", f"Unknown field {field!r}; choose one of: {', '.join(FIELD_NAMES)}."
        )
        return None
    op = raw.get("op")
    if op not in OPS[field]:
        problems.add(
            f"{place}.op",
            f"'{raw.get('field')}' takes one of: {', '.join(OPS[field])}"
            + (f" (not {op!r})." if op else "."),
        )
        return None
    before = len(problems.by_place)
    value = _value(field, str(op), raw.get("value"), raw, f"{place}.value", problems)
    lists = _ids(raw["list"], f"{place}.list", problems) if "list" in raw else ()
    statuses = _statuses(raw["status"], f"{place}.status", problems) if "status" in raw else ()
    if ("list" in raw or "status" in raw) and field not in ("list", "status", "subscribed_at"):
        problems.add(
            place, "Only list, status and subscribed_at conditions take 'list' or 'status'."
        )
    if field == "list" and "list" in raw:
        problems.add(f"{place}.list", "A list condition names its lists in 'value'.")
    if field == "status" and "status" in raw:
        problems.add(f"{place}.status", "A status condition names its statuses in 'value'.")
    if len(problems.by_place) != before:
        return None
    return Condition(
        field=field, op=str(op), value=value, key=key, lists=tuple(lists), statuses=tuple(statuses)
    )


def _value(
    field: str, op: str, raw: Any, full: dict[str, Any], place: str, problems: _Problems
) -> Any:
    if op == "set":
        if "value" not in full:
            return True
        if not isinstance(raw, bool):
            problems.add(place, "'set' takes true (has a value) or false (has none), or nothing.")
        return raw
    if field == "list":
        if op in ("eq", "neq") and not isinstance(raw, list):
            raw = [raw]
        return tuple(_ids(raw, place, problems))
    if field == "status":
        if op in ("eq", "neq") and not isinstance(raw, list):
            raw = [raw]
        return tuple(_statuses(raw, place, problems))
    if field in ("subscribed_at", "created_at"):
        return _moment(raw, place, problems)
    if field in WITHIN_DAYS:
        if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_DAYS:
            problems.add(place, f"Give a number of days from 1 to {MAX_DAYS}.")
            return 0
        return raw
    if op in ("in", "not_in"):
        if not isinstance(raw, list) or not raw:
            problems.add(place, f"'{op}' takes a non-empty list of values.")
            return ()
        if len(raw) > MAX_IN_VALUES:
            problems.add(place, f"'{op}' takes at most {MAX_IN_VALUES} values.")
            return ()
        return tuple(_scalar(field, op, item, place, problems) for item in raw)
    return _scalar(field, op, raw, place, problems)


def _scalar(field: str, op: str, raw: Any, place: str, problems: _Problems) -> Scalar:
    if field == "attribute" and op in ("gt", "lt"):
        if isinstance(raw, bool) or not isinstance(raw, int | float | str) or raw == "":
            problems.add(place, f"'{op}' compares with a number, or with text such as a date.")
            return ""
        return raw
    if field == "attribute" and op in ("eq", "neq", "in", "not_in"):
        if not isinstance(raw, str | int | float | bool):
            problems.add(place, "Give text, a number, true or false.")
            return ""
        if isinstance(raw, str) and len(raw) > MAX_TEXT:
            problems.add(place, f"At most {MAX_TEXT} characters.")
        return raw
    if isinstance(raw, int | float) and not isinstance(raw, bool) and field == "attribute":
        return str(raw)
    if not isinstance(raw, str) or not raw.strip():
        problems.add(place, "Give some text to compare with.")
        return ""
    if len(raw) > MAX_TEXT:
        problems.add(place, f"At most {MAX_TEXT} characters.")
    value = raw.strip()
    if field in ("email", "domain"):
        value = value.lower()
        if field == "domain":
            value = value.lstrip("@")
    return value


def _ids(raw: Any, place: str, problems: _Problems) -> list[int]:
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        problems.add(place, "Give a list id, or a list of list ids.")
        return []
    return sorted(set(values))


def _statuses(raw: Any, place: str, problems: _Problems) -> list[str]:
    values = raw if isinstance(raw, list) else [raw]
    if not values or not all(v in SUBSCRIPTION_STATUSES for v in values):
        problems.add(place, f"Give one or more of: {', '.join(SUBSCRIPTION_STATUSES)}.")
        return []
    return sorted(set(values))


def _moment(raw: Any, place: str, problems: _Problems) -> datetime | int:
    """A date (midnight, in the site's time zone), a moment, or whole days ago."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        if not 0 <= raw <= MAX_DAYS:
            problems.add(place, f"Days ago go from 0 to {MAX_DAYS}.")
        return raw
    if isinstance(raw, str):
        moment = parse_datetime(raw.strip())
        if moment is None:
            day = parse_date(raw.strip()) if len(raw.strip()) == 10 else None
            if day is not None:
                moment = datetime.combine(day, time.min)
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return moment
    problems.add(
        place, "Give a date (2026-01-31), a date and time with its zone, or a number of days ago."
    )
    return 0


def resolve_moment(value: datetime | int, now: datetime) -> datetime:
    """A days-ago value is counted from now, each time the segment is evaluated."""
    if isinstance(value, datetime):
        return value
    return now - timedelta(days=value)


def describe(group: Group, list_names: dict[int, str]) -> str:
    """One line a person can read: 'city is Berlin and (on list News or …)'."""
    joiner = " and " if group.match == "all" else " or "
    parts = []
    for item in group.conditions:
        if isinstance(item, Group):
            parts.append(f"({describe(item, list_names)})")
        else:
            parts.append(_describe_condition(item, list_names))
    return joiner.join(parts)


_OP_WORDS = {
    "eq": "is",
    "neq": "is not",
    "contains": "contains",
    "not_contains": "does not contain",
    "in": "is one of",
    "not_in": "is none of",
    "gt": "is after",
    "lt": "is before",
}


def _describe_condition(condition: Condition, list_names: dict[int, str]) -> str:
    subject = {"attribute": condition.key}.get(condition.field, condition.field.replace("_", " "))
    value = condition.value
    if condition.field == "list":
        names = ", ".join(list_names.get(pk, f"#{pk}") for pk in value)
        return ("on " if condition.op in ("eq", "in") else "not on ") + f"list {names}"
    if condition.field in WITHIN_DAYS:
        days = f"in the last {value} days"
        verb = condition.field
        return (
            f"{verb} a campaign {days}"
            if condition.op == "in_last_days"
            else f"{verb} nothing {days}"
        )
    if condition.op == "set":
        return f"{subject} is {'set' if value else 'empty'}"
    if condition.field in ("subscribed_at", "created_at"):
        verb = "subscribed" if condition.field == "subscribed_at" else "added"
        if isinstance(value, int):
            if condition.op == "gt":
                return f"{verb} in the last {value} days"
            return f"{verb} more than {value} days ago"
        when = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        return f"{verb} {'after' if condition.op == 'gt' else 'before'} {when}"
    if isinstance(value, tuple):
        shown = ", ".join(str(v) for v in value[:5]) + (" …" if len(value) > 5 else "")
    elif isinstance(value, datetime):
        shown = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, int) and condition.field in ("subscribed_at", "created_at"):
        shown = f"{value} days ago"
    else:
        shown = str(value)
    word = _OP_WORDS[condition.op]
    if condition.field == "attribute" and condition.op in ("gt", "lt"):
        word = "is more than" if condition.op == "gt" else "is less than"
    return f"{subject} {word} {shown}"


def as_number_or_text(values: Sequence[Scalar]) -> list[Scalar]:
    """Each value as the user meant it and as the other JSON type it could be
    stored as: the builder sends "30", an import typed the column as 30."""
    variants: list[Scalar] = []
    for value in values:
        forms: list[Scalar] = [value]
        if isinstance(value, str):
            number = _number(value)
            if number is not None:
                forms.append(number)
            if value.lower() in ("true", "false"):
                forms.append(value.lower() == "true")
        elif isinstance(value, bool):
            forms.append("true" if value else "false")
        elif isinstance(value, int | float):
            forms.append(_text(value))
        for form in forms:
            if not any(type(form) is type(seen) and form == seen for seen in variants):
                variants.append(form)
    return variants


def _number(text: str) -> int | float | None:
    text = text.strip()
    if re.fullmatch(r"-?\d{1,15}", text):
        return int(text)
    if re.fullmatch(r"-?\d{1,15}\.\d{1,15}", text):
        return float(text)
    return None


def _text(number: int | float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)
