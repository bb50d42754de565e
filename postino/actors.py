"""Who did something: services take an ``actor`` (a request's user, an API
token's user, or nobody for work Postino does itself)."""

from __future__ import annotations

from typing import Any


def signed_in(actor: Any) -> Any:
    """The actor if it is a signed-in user, else None: what a ``created_by``
    foreign key can hold (an anonymous user or a task has no row)."""
    return actor if getattr(actor, "is_authenticated", False) else None
