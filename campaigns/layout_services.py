"""Writes on layouts beyond create/update/delete (``campaigns.services``): copies."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from campaigns.models import Template

_NAME_LENGTH = Template._meta.get_field("name").max_length or 200
_ATTEMPTS = 5


def _copy_names(name: str) -> list[str]:
    """The candidate names of a copy, most natural first, each within the field."""
    first = f"Copy of {name}"
    names = [first[:_NAME_LENGTH]]
    for number in range(2, 1000):
        suffix = f" ({number})"
        names.append(first[: _NAME_LENGTH - len(suffix)] + suffix)
    return names


def duplicate_layout(*, layout: Template) -> Template:
    """A new layout with the same HTML, named "Copy of …" with a number if taken.

    The taken names are read in one query; a copy made at the same moment by
    someone else can still take the chosen name, so the unique constraint
    decides and the next free name is tried.
    """
    for _ in range(_ATTEMPTS):
        candidates = _copy_names(layout.name)
        taken = set(Template.objects.filter(name__in=candidates).values_list("name", flat=True))
        name = next(candidate for candidate in candidates if candidate not in taken)
        try:
            with transaction.atomic():
                return Template.objects.create(name=name, html=layout.html)
        except IntegrityError:
            continue
    raise IntegrityError(f"no free name for a copy of {layout.name!r}")
