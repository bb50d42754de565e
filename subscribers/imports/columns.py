"""Columns of an import: what each one means, and a row turned into what we store.

A mapping is one entry per column of the file, as the preview page edits it
and ``Import.mapping`` stores it::

    {"header": "E-Mail", "target": "email"}
    {"header": "City", "target": "attribute", "key": "city", "type": "text"}
    {"header": "Notes", "target": "ignore"}

Targets: ``email`` (exactly one column), ``name``, ``first_name`` and
``last_name`` (joined with a space into the name), ``attribute`` (``key`` is
the attribute's name in templates and segments, ``type`` is ``text``,
``number`` or ``boolean``) and ``ignore``.

``RowConverter.convert`` runs once per row of files of millions, so it does
the least it can: a compiled regex accepts the ordinary addresses, and only
the rest go through Django's validator, which stays the authority (nothing
it accepts is refused here, nothing it refuses gets in).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

EMAIL_MAX = 320
NAME_MAX = 200
ATTRIBUTE_VALUE_MAX = 1000
ATTRIBUTE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

TARGETS = ("email", "name", "first_name", "last_name", "attribute", "ignore")
TYPES = ("text", "number", "boolean")

# A strict subset of what Django's EmailValidator accepts: dot-atom local part,
# ASCII domain labels, an alphabetic TLD.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_INTEGER = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?")
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+")
_TRUE = frozenset({"true", "yes", "y", "1", "t", "on"})
_FALSE = frozenset({"false", "no", "n", "0", "f", "off"})

# Header names (lower-cased) that say what a column is, in the languages
# exports come in most; anything else becomes an attribute.
_EMAIL_HEADERS = frozenset(
    {
        "email", "e-mail", "e_mail", "mail", "email address", "e-mail address", "emailaddress",
        "email_address", "e-mail-adresse", "emailadresse", "adresse e-mail", "courriel",
        "correo", "correo electrónico", "posta elettronica",
    }
)  # fmt: skip
_NAME_HEADERS = frozenset(
    {"name", "full name", "fullname", "full_name", "display name", "nom complet", "nombre completo"}
)
_FIRST_HEADERS = frozenset(
    {
        "first name", "firstname", "first_name", "given name", "forename", "vorname", "prénom",
        "prenom", "nombre", "nome",
    }
)  # fmt: skip
_LAST_HEADERS = frozenset(
    {
        "last name", "lastname", "last_name", "surname", "family name", "nachname",
        "familienname", "nom", "apellido", "apellidos", "cognome",
    }
)  # fmt: skip


class MappingError(ValueError):
    """The mapping cannot be used; the message says which column and why."""


@dataclass(frozen=True, slots=True)
class Problem:
    column: str
    value: str
    reason: str


class Converted(NamedTuple):
    email: str
    name: str | None
    attributes: str  # a JSON object


def clean_email(raw: str) -> str | None:
    """The address lower-cased and trimmed, or None when it is not one."""
    email = raw.strip().lower()
    if len(email) <= EMAIL_MAX and _PLAIN_EMAIL.fullmatch(email):
        return email
    if not email or len(email) > EMAIL_MAX:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def to_number(value: str) -> int | float:
    """A number as a person types it; ValueError otherwise. ``1,5`` is 1.5."""
    if _INTEGER.fullmatch(value):
        return int(value)
    if _DECIMAL_COMMA.fullmatch(value):
        value = value.replace(",", ".")
    if _DECIMAL.fullmatch(value):
        number = float(value)
        if math.isfinite(number):
            return number
    raise ValueError(value)


def to_boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ValueError(value)


def _looks_numeric(value: str) -> bool:
    # "007" and "01234" are codes, not numbers: their zeros would be lost.
    stripped = value.lstrip("+-")
    if len(stripped) > 1 and stripped[0] == "0" and stripped[1].isdigit():
        return False
    try:
        to_number(value)
    except ValueError:
        return False
    return True


def guess_type(values: Sequence[str]) -> str:
    """``number`` or ``boolean`` when every non-empty sample value is one."""
    present = [value.strip() for value in values if value.strip()]
    if not present:
        return "text"
    if all(value.lower() in _TRUE | _FALSE for value in present) and not all(
        value in ("0", "1") for value in present
    ):
        return "boolean"
    if all(_looks_numeric(value) for value in present):
        return "number"
    return "text"


def attribute_key(header: str) -> str:
    """A template-friendly attribute name from a column header."""
    key = re.sub(r"[^A-Za-z0-9_]+", "_", header.strip()).strip("_").lower()[:64]
    if not key:
        return "column"
    return key if ATTRIBUTE_KEY.fullmatch(key) else f"_{key}"[:64]


def suggest_mapping(
    header: Sequence[str] | None, sample: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """A first mapping from the header (when there is one) and sample rows."""
    width = max([len(header or ())] + [len(row) for row in sample] + [1])
    headers = [
        (header[index] if header and index < len(header) else f"Column {index + 1}")
        for index in range(width)
    ]
    column_values = [[row[index] for row in sample if index < len(row)] for index in range(width)]
    mapping: list[dict[str, Any]] = []
    taken: set[str] = set()
    for index, title in enumerate(headers):
        lowered = title.strip().lower()
        target = "attribute"
        for candidate, names in (
            ("email", _EMAIL_HEADERS),
            ("name", _NAME_HEADERS),
            ("first_name", _FIRST_HEADERS),
            ("last_name", _LAST_HEADERS),
        ):
            if lowered in names and candidate not in taken:
                target = candidate
        entry: dict[str, Any] = {"header": title, "target": target}
        if target == "attribute":
            entry["key"] = attribute_key(title)
            entry["type"] = guess_type(column_values[index])
        taken.add(target)
        mapping.append(entry)
    if "email" not in taken:
        # No header named it: the column whose sample values are addresses.
        best = max(
            range(width),
            key=lambda index: sum(clean_email(value) is not None for value in column_values[index]),
        )
        if any(clean_email(value) for value in column_values[best]):
            mapping[best] = {"header": headers[best], "target": "email"}
    _dedupe_keys(mapping)
    return mapping


def _dedupe_keys(mapping: list[dict[str, Any]]) -> None:
    seen: set[str] = set()
    for entry in mapping:
        if entry["target"] != "attribute":
            continue
        key = entry["key"]
        number = 2
        while key in seen:
            key = f"{entry['key']}_{number}"
            number += 1
        entry["key"] = key
        seen.add(key)


def validate_mapping(mapping: Any) -> list[dict[str, Any]]:
    """The mapping in its stored form; MappingError naming the first problem."""
    if not isinstance(mapping, list) or not mapping:
        raise MappingError("The mapping must list the file's columns.")
    cleaned: list[dict[str, Any]] = []
    keys: set[str] = set()
    counts: dict[str, int] = {}
    for index, entry in enumerate(mapping, start=1):
        if not isinstance(entry, dict):
            raise MappingError(f"Column {index}: expected an object.")
        header = str(entry.get("header") or f"Column {index}")[:200]
        target = entry.get("target")
        if target not in TARGETS:
            raise MappingError(
                f"Column {index} ({header}): target must be one of {', '.join(TARGETS)}."
            )
        counts[target] = counts.get(target, 0) + 1
        item: dict[str, Any] = {"header": header, "target": target}
        if target == "attribute":
            key = str(entry.get("key") or "").strip()
            if not ATTRIBUTE_KEY.fullmatch(key):
                raise MappingError(
                    f"Column {index} ({header}): attribute name {key!r} must start with a letter "
                    "or underscore and hold only letters, digits and underscores (at most 64)."
                )
            if key in keys:
                raise MappingError(f"Column {index} ({header}): attribute {key!r} is mapped twice.")
            keys.add(key)
            kind = entry.get("type", "text")
            if kind not in TYPES:
                raise MappingError(
                    f"Column {index} ({header}): type must be one of {', '.join(TYPES)}."
                )
            item["key"] = key
            item["type"] = kind
        cleaned.append(item)
    if counts.get("email", 0) != 1:
        raise MappingError("Exactly one column must be the email address.")
    for single in ("name", "first_name", "last_name"):
        if counts.get(single, 0) > 1:
            raise MappingError(f"Only one column can be the {single.replace('_', ' ')}.")
    if counts.get("name") and (counts.get("first_name") or counts.get("last_name")):
        raise MappingError("Map either a name column or first and last name columns, not both.")
    return cleaned


# The C string encoder of the json module (no ensure_ascii: UTF-8 text as is).
_encode_text: Callable[[str], str] = json.encoder.encode_basestring
_TYPE_REASONS = {"number": "is not a number", "boolean": "is not true or false (yes/no, 1/0)"}


_BOOLEAN_JSON = {**dict.fromkeys(_TRUE, "true"), **dict.fromkeys(_FALSE, "false")}


def _number_json(value: str) -> str:
    """A number cell as JSON text (what json.dumps gives for the int or float
    repr, without its overhead); ValueError when it is not a number."""
    if value.isascii() and value.isdigit():
        return str(int(value))  # the common case, "42": no regex
    return repr(to_number(value))


def _boolean_json(value: str) -> str:
    try:
        return _BOOLEAN_JSON[value.lower()]
    except KeyError:
        raise ValueError(value) from None


# Each type's cell to JSON text; only the typed ones raise ValueError.
_ENCODERS: dict[str, Callable[[str], str]] = {
    "text": _encode_text,
    "number": _number_json,
    "boolean": _boolean_json,
}


class RowConverter:
    """Turns the fields of one row into what is staged, or the row's problem.

    The attributes' JSON is assembled from pieces (each key's ``"key":`` made
    once, text values escaped by the C encoder), which is several times
    faster than building a dict per row and encoding it.
    """

    def __init__(self, mapping: Sequence[dict[str, Any]]) -> None:
        self.email_index = 0
        self.name_index: int | None = None
        self.first_index: int | None = None
        self.last_index: int | None = None
        self.headers = [entry["header"] for entry in mapping]
        self.attributes: list[tuple[int, str, Callable[[str], str], str]] = []
        for index, entry in enumerate(mapping):
            target = entry["target"]
            if target == "email":
                self.email_index = index
            elif target == "name":
                self.name_index = index
            elif target == "first_name":
                self.first_index = index
            elif target == "last_name":
                self.last_index = index
            elif target == "attribute":
                prefix = _encode_text(entry["key"]) + ":"
                kind = entry["type"]
                self.attributes.append((index, prefix, _ENCODERS[kind], kind))

    def convert(self, fields: Sequence[str]) -> Converted | Problem:
        count = len(fields)
        email_index = self.email_index
        if email_index >= count:
            return Problem(
                self.headers[email_index], "", f"the row has no email column (only {count} fields)"
            )
        raw_email = fields[email_index]
        email = raw_email.strip().lower()
        if len(email) > EMAIL_MAX or not _PLAIN_EMAIL.fullmatch(email):
            checked = clean_email(raw_email)
            if checked is None:
                return self._email_problem(raw_email)
            email = checked
        name: str | None = None
        if self.name_index is not None:
            if self.name_index < count:
                name = fields[self.name_index].strip() or None
            column = self.name_index
        elif self.first_index is not None or self.last_index is not None:
            parts = [
                fields[index].strip()
                for index in (self.first_index, self.last_index)
                if index is not None and index < count
            ]
            name = " ".join(part for part in parts if part) or None
            column = self.first_index if self.first_index is not None else self.last_index or 0
        if name is not None and len(name) > NAME_MAX:
            return Problem(self.headers[column], name[:200], f"longer than {NAME_MAX} characters")
        pieces = []
        for index, prefix, encode, kind in self.attributes:
            if index >= count:
                continue
            value = fields[index].strip()
            if not value:
                continue
            if len(value) > ATTRIBUTE_VALUE_MAX:
                return Problem(
                    self.headers[index],
                    value[:200],
                    f"longer than {ATTRIBUTE_VALUE_MAX} characters",
                )
            try:
                pieces.append(prefix + encode(value))
            except ValueError:
                return Problem(self.headers[index], value[:200], _TYPE_REASONS[kind])
        return Converted(email, name, "{" + ",".join(pieces) + "}" if pieces else "{}")

    def _email_problem(self, raw_email: str) -> Problem:
        column = self.headers[self.email_index]
        if len(raw_email.strip()) > EMAIL_MAX:
            return Problem(column, raw_email[:200], f"longer than {EMAIL_MAX} characters")
        reason = "no email address" if not raw_email.strip() else "not a valid email address"
        return Problem(column, raw_email[:200], reason)
