"""A segment as one SQL condition over ``subscribers_subscriber s``.

Every value is a parameter and every name comes from model metadata, so what
a marketer types can never become SQL. Each condition is wrapped in
``COALESCE(…, FALSE)``: a missing attribute makes a comparison NULL, and a
NULL would vanish from both a segment and its exclusion.

PostgreSQL and SQLite differ only in how attributes are read: on PostgreSQL
equality and "contains" use ``@>``, which the GIN index on ``attributes``
answers (see the 0004 migration); SQLite reads JSON paths.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from delivery.models import Delivery
from subscribers.models import Subscription
from subscribers.segments.definition import (
    MEMBER_STATUSES,
    Condition,
    Group,
    Scalar,
    as_number_or_text,
    resolve_moment,
)
from tracking.models import Engagement

Params = list[Any]


def compile_group(group: Group, *, now: datetime | None = None) -> tuple[str, Params]:
    """The segment's condition and its parameters, for ``WHERE`` over alias ``s``."""
    compiler = _Compiler(connection.vendor, now or timezone.now())
    params: Params = []
    return compiler.group(group, params), params


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class _Compiler:
    def __init__(self, vendor: str, now: datetime) -> None:
        self.postgres = vendor == "postgresql"
        self.now = now
        self.subscription = connection.ops.quote_name(Subscription._meta.db_table)
        self.delivery = connection.ops.quote_name(Delivery._meta.db_table)
        self.engagement = connection.ops.quote_name(Engagement._meta.db_table)

    def group(self, group: Group, params: Params) -> str:
        parts = [
            self.group(item, params) if isinstance(item, Group) else self.condition(item, params)
            for item in group.conditions
        ]
        joiner = " AND " if group.match == "all" else " OR "
        return "(" + joiner.join(parts) + ")"

    def condition(self, condition: Condition, params: Params) -> str:
        method = getattr(self, f"_{condition.field}")
        sql: str = method(condition, params)
        return f"COALESCE(({sql}), FALSE)"

    # Text fields -----------------------------------------------------------

    def _email(self, condition: Condition, params: Params) -> str:
        return self._text("s.email", condition, params, lower=False)

    def _name(self, condition: Condition, params: Params) -> str:
        if condition.op == "set":
            return "s.name <> ''" if condition.value else "s.name = ''"
        return self._text("LOWER(s.name)", condition, params, lower=True)

    def _text(self, column: str, condition: Condition, params: Params, *, lower: bool) -> str:
        op, value = condition.op, condition.value

        def fold(text: str) -> str:
            return text.lower() if lower else text

        if op in ("eq", "neq"):
            params.append(fold(value))
            return f"{column} {'=' if op == 'eq' else '<>'} %s"
        if op in ("contains", "not_contains"):
            params.append(f"%{like_escape(fold(value))}%")
            return f"{column} {'' if op == 'contains' else 'NOT '}LIKE %s ESCAPE '\\'"
        params.extend(fold(item) for item in value)
        marks = ", ".join(["%s"] * len(value))
        return f"{column} {'' if op == 'in' else 'NOT '}IN ({marks})"

    def _domain(self, condition: Condition, params: Params) -> str:
        # Addresses are stored lower-cased; a domain is what follows the @.
        op, value = condition.op, condition.value
        if op in ("eq", "neq", "in", "not_in"):
            domains = value if isinstance(value, tuple) else (value,)
            params.extend(f"%@{like_escape(domain)}" for domain in domains)
            any_of = " OR ".join(["s.email LIKE %s ESCAPE '\\'"] * len(domains))
            return f"({any_of})" if op in ("eq", "in") else f"NOT ({any_of})"
        params.append(f"%@%{like_escape(value)}%")
        return f"s.email {'' if op == 'contains' else 'NOT '}LIKE %s ESCAPE '\\'"

    # Attributes ------------------------------------------------------------

    def _attribute(self, condition: Condition, params: Params) -> str:
        op, key, value = condition.op, condition.key, condition.value
        if op == "set":
            present = self._attribute_present(key, params)
            return present if value else _not(present)
        if op in ("eq", "neq", "in", "not_in"):
            values = value if isinstance(value, tuple) else (value,)
            equal = self._attribute_equal(key, as_number_or_text(values), params)
            return equal if op in ("eq", "in") else _not(equal)
        if op in ("contains", "not_contains"):
            contains = self._attribute_contains(key, value, params)
            return contains if op == "contains" else _not(contains)
        return self._attribute_compare(key, ">" if op == "gt" else "<", value, params)

    def _attribute_equal(self, key: str, values: Sequence[Scalar], params: Params) -> str:
        if self.postgres:
            params.extend(json.dumps({key: v}) for v in values)
            terms = ["s.attributes @> %s::jsonb"] * len(values)
        else:
            terms = []
            for v in values:
                # json_extract gives JSON true as 1: compare booleans by type too.
                if isinstance(v, bool):
                    params.extend([_path(key), "true" if v else "false"])
                    terms.append("json_type(s.attributes, %s) = %s")
                else:
                    params.extend([_path(key), v])
                    terms.append(
                        "(json_extract(s.attributes, %s) = %s"
                        " AND json_type(s.attributes, %s) NOT IN ('true', 'false'))"
                    )
                    params.append(_path(key))
        return "(" + " OR ".join(terms) + ")"

    def _attribute_contains(self, key: str, value: str, params: Params) -> str:
        pattern = f"%{like_escape(value.lower())}%"
        if self.postgres:
            # An array attribute ("tags") contains an element; text contains a part.
            params.extend([json.dumps({key: [value]}), key, pattern])
            return "(s.attributes @> %s::jsonb OR LOWER(s.attributes ->> %s) LIKE %s ESCAPE '\\')"
        params.extend([_path(key), value, _path(key), pattern])
        return (
            "(EXISTS (SELECT 1 FROM json_each(s.attributes, %s) j WHERE j.value = %s)"
            " OR LOWER(json_extract(s.attributes, %s)) LIKE %s ESCAPE '\\')"
        )

    def _attribute_compare(self, key: str, sign: str, value: Scalar, params: Params) -> str:
        numeric = isinstance(value, int | float)
        if self.postgres:
            # The CASE keeps the cast away from values that are not numbers.
            kind, read = (
                ("number", "(s.attributes ->> %s)::numeric")
                if numeric
                else (
                    "string",
                    "(s.attributes ->> %s)",
                )
            )
            params.extend([key, kind, key, value])
            return f"CASE WHEN jsonb_typeof(s.attributes -> %s) = %s THEN {read} END {sign} %s"
        kinds = "('integer', 'real')" if numeric else "('text')"
        params.extend([_path(key), _path(key), value])
        return (
            f"CASE WHEN json_type(s.attributes, %s) IN {kinds}"
            f" THEN json_extract(s.attributes, %s) END {sign} %s"
        )

    def _attribute_present(self, key: str, params: Params) -> str:
        if self.postgres:
            params.extend([key, key])
            return (
                "(s.attributes ? %s AND s.attributes -> %s NOT IN ('null'::jsonb, '\"\"'::jsonb))"
            )
        params.extend([_path(key), _path(key)])
        return (
            "(json_type(s.attributes, %s) NOT IN ('null')"
            " AND COALESCE(json_extract(s.attributes, %s), '') <> '')"
        )

    # Subscriptions, dates, engagement --------------------------------------

    def _subscribed(
        self,
        params: Params,
        *,
        lists: Sequence[int],
        statuses: Sequence[str],
        since: str = "",
        moment: datetime | None = None,
    ) -> str:
        terms = ["sg.subscriber_id = s.id"]
        if lists:
            terms.append(f"sg.mailing_list_id IN ({', '.join(['%s'] * len(lists))})")
            params.extend(lists)
        terms.append(f"sg.status IN ({', '.join(['%s'] * len(statuses))})")
        params.extend(statuses)
        if since:
            terms.append(f"sg.created_at {since} %s")
            params.append(connection.ops.adapt_datetimefield_value(moment))
        where = " AND ".join(terms)
        return f"EXISTS (SELECT 1 FROM {self.subscription} sg WHERE {where})"  # noqa: S608

    def _list(self, condition: Condition, params: Params) -> str:
        sql = self._subscribed(
            params, lists=condition.value, statuses=condition.statuses or MEMBER_STATUSES
        )
        return sql if condition.op in ("eq", "in") else f"NOT {sql}"

    def _status(self, condition: Condition, params: Params) -> str:
        sql = self._subscribed(params, lists=condition.lists, statuses=condition.value)
        return sql if condition.op in ("eq", "in") else f"NOT {sql}"

    def _subscribed_at(self, condition: Condition, params: Params) -> str:
        return self._subscribed(
            params,
            lists=condition.lists,
            statuses=condition.statuses or MEMBER_STATUSES,
            since=">" if condition.op == "gt" else "<",
            moment=resolve_moment(condition.value, self.now),
        )

    def _created_at(self, condition: Condition, params: Params) -> str:
        moment = resolve_moment(condition.value, self.now)
        params.append(connection.ops.adapt_datetimefield_value(moment))
        return f"s.created_at {'>' if condition.op == 'gt' else '<'} %s"

    def _received(self, condition: Condition, params: Params) -> str:
        since = resolve_moment(int(condition.value), self.now)
        params.extend([Delivery.Status.SENT, connection.ops.adapt_datetimefield_value(since)])
        sql = (
            f"EXISTS (SELECT 1 FROM {self.delivery} dl WHERE dl.subscriber_id = s.id"  # noqa: S608
            " AND dl.status = %s AND dl.sent_at >= %s)"
        )
        return sql if condition.op == "in_last_days" else f"NOT {sql}"

    def _opened(self, condition: Condition, params: Params) -> str:
        return self._engaged("last_opened_at", condition, params)

    def _clicked(self, condition: Condition, params: Params) -> str:
        return self._engaged("last_clicked_at", condition, params)

    def _engaged(self, column: str, condition: Condition, params: Params) -> str:
        """A person's (not a machine's) open or click of any campaign since then."""
        since = resolve_moment(int(condition.value), self.now)
        params.append(connection.ops.adapt_datetimefield_value(since))
        sql = (
            f"EXISTS (SELECT 1 FROM {self.engagement} en WHERE en.subscriber_id = s.id"  # noqa: S608
            f" AND en.{column} >= %s)"
        )
        return sql if condition.op == "in_last_days" else f"NOT {sql}"


def _not(sql: str) -> str:
    # A missing attribute reads as NULL, and NOT NULL is NULL: settle it first.
    return f"NOT COALESCE({sql}, FALSE)"


def _path(key: str) -> str:
    return f'$."{key}"'
