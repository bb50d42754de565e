"""Keyset pagination, shared by the marketer pages and the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class KeysetPage(Generic[M]):
    items: Sequence[M]
    # The key to pass as ``after`` (or ``before``) for the next page; None on the last page.
    next_key: Any


def keyset_page(
    qs: QuerySet[M], *, key: str = "id", after: Any = None, size: int = 50, descending: bool = False
) -> KeysetPage[M]:
    """One page of ``qs`` ordered by a unique ``key``, starting after ``after``.

    Keyset pagination: the database seeks straight to the key through its
    index instead of counting and skipping rows as OFFSET does, so page 1000
    costs what page 1 costs and concurrent inserts never shift pages.
    """
    if after is not None:
        qs = qs.filter(**{f"{key}__{'lt' if descending else 'gt'}": after})
    rows = list(qs.order_by(f"-{key}" if descending else key)[: size + 1])
    items = rows[:size]
    next_key = getattr(items[-1], key) if len(rows) > size else None
    return KeysetPage(items=items, next_key=next_key)
