"""What a blocklist entry means, and the SQL that applies every entry at once.

Three kinds, told apart by how they are written:

- ``ada@example.com``: that address;
- ``example.com`` (or ``@example.com``): every address at that domain, not at
  its subdomains;
- anything with ``*``: a pattern, ``*`` standing for any characters:
  ``*.example.com`` is every subdomain, ``*@example.*`` every top-level
  domain, ``info@*`` every address whose local part is ``info``. A pattern
  without ``@`` is about the domain.

Addresses and domains are matched by equality (the unique index on ``value``
answers them, so a blocklist of 100,000 addresses costs a hash join); only
patterns use ``LIKE``, and there are usually few.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from subscribers.models import BlocklistEntry

LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
DOMAIN = re.compile(rf"(?=.{{1,253}}$){LABEL}(?:\.{LABEL})*")
PATTERN_CHARACTERS = re.compile(r"[a-z0-9.@*+_\-']+")
MAX_LENGTH = 320


class Rule(NamedTuple):
    kind: str
    value: str
    like_pattern: str


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def parse(text: str) -> Rule:
    """The rule a line of the blocklist form means, or a ValidationError saying why not."""
    value = text.strip().lower()
    if not value:
        raise ValidationError("Write an address, a domain or a pattern with *.")
    if len(value) > MAX_LENGTH:
        raise ValidationError(f"At most {MAX_LENGTH} characters.")
    if "*" in value:
        if not PATTERN_CHARACTERS.fullmatch(value) or value.count("@") > 1:
            raise ValidationError(
                f"“{text.strip()}” is not a pattern: use letters, digits, dots, dashes, "
                "one @ and * for any characters."
            )
        if not value.replace("*", "").replace("@", "").replace(".", ""):
            raise ValidationError(f"“{text.strip()}” would block every address.")
        where = value if "@" in value else f"*@{value}"
        return Rule(BlocklistEntry.Kind.PATTERN, value, like_escape(where).replace("*", "%"))
    if value.startswith("@"):
        value = value[1:]
    if "@" not in value:
        if not DOMAIN.fullmatch(value):
            raise ValidationError(f"“{text.strip()}” is neither an address nor a domain.")
        return Rule(BlocklistEntry.Kind.DOMAIN, value, "")
    try:
        validate_email(value)
    except ValidationError as exc:
        raise ValidationError(f"“{text.strip()}”: {' '.join(exc.messages)}") from exc
    return Rule(BlocklistEntry.Kind.ADDRESS, value, "")


def domain_of(column: str) -> str:
    """SQL for the part of an address after its @."""
    if connection.vendor == "postgresql":
        return f"split_part({column}, '@', 2)"
    return f"substr({column}, instr({column}, '@') + 1)"


def blocked_sql(column: str) -> tuple[str, list[str]]:
    """A condition true when the address in ``column`` matches any entry."""
    table = connection.ops.quote_name(BlocklistEntry._meta.db_table)
    kinds = BlocklistEntry.Kind
    # ``column`` is our own SQL (an alias and a column), never user input.
    sql = (
        f"(EXISTS (SELECT 1 FROM {table} bl WHERE bl.value = {column} AND bl.kind = %s)"  # noqa: S608
        f" OR EXISTS (SELECT 1 FROM {table} bl WHERE bl.value = {domain_of(column)}"
        " AND bl.kind = %s)"
        f" OR EXISTS (SELECT 1 FROM {table} bl WHERE bl.kind = %s"
        f" AND {column} LIKE bl.like_pattern ESCAPE '\\'))"
    )
    return sql, [kinds.ADDRESS, kinds.DOMAIN, kinds.PATTERN]
