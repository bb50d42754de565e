"""Reading segments: counts, samples and the SQL campaigns target them with."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from subscribers.models import MailingList, Segment, Subscriber
from subscribers.segments import definition as segment_definition
from subscribers.segments.definition import Group
from subscribers.segments.sql import compile_group
from subscribers.selectors import EXPORT_CHUNK, attribute_keys_where, stream_csv


def condition_of(
    segments: Iterable[Segment], *, now: datetime | None = None
) -> tuple[str, list[Any]]:
    """Anyone matching any of the segments, as SQL over alias ``s``.

    Stored definitions were checked when saved; they are parsed again here so
    a definition written by an older Postino fails loudly, not silently.
    """
    parts: list[str] = []
    params: list[Any] = []
    for segment in segments:
        sql, segment_params = compile_group(segment_definition.parse(segment.definition), now=now)
        parts.append(sql)
        params.extend(segment_params)
    if not parts:
        return "FALSE", []
    return "(" + " OR ".join(parts) + ")", params


def count_group(group: Group) -> int:
    """How many subscribers the conditions match: one COUNT, nobody loaded."""
    sql, params = compile_group(group)
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table} s WHERE {sql}", params)  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def _ids(group: Group) -> RawSQL:
    """The ids the conditions match, as a subquery for ``pk__in``."""
    sql, params = compile_group(group)
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    # The alias ``s`` is the compiled SQL's; the subquery gives it one. Values
    # are parameters (subscribers.segments.sql), names come from model metadata.
    ids = f"SELECT s.id FROM {table} s WHERE {sql}"  # noqa: S608
    return RawSQL(ids, params)  # noqa: S611


def matching(group: Group) -> QuerySet[Subscriber]:
    """The matching subscribers as a queryset (sample, export, bulk actions)."""
    return Subscriber.objects.filter(pk__in=_ids(group))


def matching_ids_sql(segment: Segment) -> RawSQL:
    """The ids a saved segment matches, as a subquery for ``pk__in``."""
    return _ids(segment_definition.parse(segment.definition))


def count_segment(segment: Segment) -> int:
    return count_group(segment_definition.parse(segment.definition))


SEGMENT_EXPORT_COLUMNS = ["email", "name", "status", "created_at"]


def export_segment(segment: Segment, on_rows: Callable[[int], None] | None = None) -> Iterator[str]:
    """The matching subscribers as CSV, streamed through a server-side cursor in
    chunks, never the whole selection at once; one column per attribute."""
    group = segment_definition.parse(segment.definition)
    where, params = compile_group(group)
    keys = attribute_keys_where("", where, params)
    rows = (
        matching(group)
        .order_by("id")
        .values_list("email", "name", "status", "created_at", "attributes")
        .iterator(chunk_size=EXPORT_CHUNK)
    )
    yield from stream_csv(SEGMENT_EXPORT_COLUMNS, keys, rows, on_rows)


def list_names() -> dict[int, str]:
    return dict(MailingList.objects.values_list("pk", "name"))


def describe(segment: Segment, names: dict[int, str] | None = None) -> str:
    try:
        group = segment_definition.parse(segment.definition)
    except Exception:
        return "This definition no longer reads; edit it to fix."
    return segment_definition.describe(group, names if names is not None else list_names())


def segments_by_name() -> QuerySet[Segment]:
    return Segment.objects.order_by("name")


def attribute_keys(limit: int = 200) -> list[str]:
    """Attribute names in use, for the builder's suggestions: a sample of the
    newest subscribers, so it stays quick on a million rows."""
    table = connection.ops.quote_name(Subscriber._meta.db_table)
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT DISTINCT k FROM (SELECT s.attributes FROM {table} s ORDER BY s.id DESC "  # noqa: S608
            "LIMIT 5000) recent, jsonb_object_keys(recent.attributes) k ORDER BY 1 LIMIT %s"
        )
    else:
        sql = (
            f"SELECT DISTINCT j.key FROM (SELECT s.attributes FROM {table} s ORDER BY s.id DESC "  # noqa: S608
            "LIMIT 5000) recent, json_each(recent.attributes) j ORDER BY 1 LIMIT %s"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]
