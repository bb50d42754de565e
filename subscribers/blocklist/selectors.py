"""Reading the blocklist."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from postino.pagination import KeysetPage, keyset_page
from subscribers.blocklist import rules
from subscribers.models import BlocklistEntry


def entries_page(*, search: str = "", after: int | None, size: int) -> KeysetPage[BlocklistEntry]:
    qs: QuerySet[BlocklistEntry] = BlocklistEntry.objects.order_by("id")
    if search.strip():
        qs = qs.filter(value__startswith=search.strip().lower())
    return keyset_page(qs, after=after, size=size)


def blocking_entry(email: str) -> BlocklistEntry | None:
    """The entry that blocks this (normalised) address, if any: one query."""
    table = connection.ops.quote_name(BlocklistEntry._meta.db_table)
    domain = email.rpartition("@")[2]
    kinds = BlocklistEntry.Kind
    sql = (
        f"SELECT id FROM {table} WHERE (kind = %s AND value = %s) OR (kind = %s AND value = %s)"  # noqa: S608
        " OR (kind = %s AND %s LIKE like_pattern ESCAPE '\\') ORDER BY kind LIMIT 1"
    )
    params = [kinds.ADDRESS, email, kinds.DOMAIN, domain, kinds.PATTERN, email]
    found = BlocklistEntry.objects.raw(sql, params)
    return next(iter(found), None)


def blocked_message(entry: BlocklistEntry) -> str:
    if entry.kind == BlocklistEntry.Kind.ADDRESS:
        return "This address is on the blocklist."
    return f"This address is blocked by the blocklist entry “{entry.value}”."


__all__ = ["blocked_message", "blocking_entry", "entries_page", "rules"]
