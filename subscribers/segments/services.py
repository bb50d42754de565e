"""Creating, changing and deleting segments."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from campaigns.models import Campaign
from postino.actors import signed_in
from subscribers.models import MailingList, Segment
from subscribers.segments import definition as segment_definition
from subscribers.segments.definition import Group

NAME_TAKEN = "A segment with this name already exists."
# Campaigns that will still evaluate their segments: a start reads them.
UNSTARTED = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)


class SegmentInUse(Exception):
    """The segment is chosen by campaigns that have not started yet."""


def check_definition(raw: Any) -> Group:
    """The parsed definition, with its list ids checked to exist (one query)."""
    group = segment_definition.parse(raw)
    wanted = segment_definition.list_ids(group)
    if wanted:
        found = set(MailingList.objects.filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            raise ValidationError(
                {"conditions": f"No list with id {', '.join(str(pk) for pk in missing)}."}
            )
    return group


def _clean(*, name: str, raw: Any, exclude_pk: int | None) -> tuple[str, Group]:
    problems: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        problems["name"] = ["Give the segment a name."]
    elif len(name) > 200:
        problems["name"] = ["At most 200 characters."]
    elif Segment.objects.filter(name__iexact=name).exclude(pk=exclude_pk or 0).exists():
        problems["name"] = [NAME_TAKEN]
    group: Group | None = None
    try:
        group = check_definition(raw)
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            problems.setdefault(field, []).extend(messages)
    if problems:
        raise ValidationError(problems)
    assert group is not None
    return name, group


def create_segment(
    *, name: str, definition: Any, description: str = "", actor: Any = None
) -> Segment:
    name, _ = _clean(name=name, raw=definition, exclude_pk=None)
    try:
        with transaction.atomic():
            return Segment.objects.create(
                name=name,
                description=description.strip(),
                definition=definition,
                created_by=signed_in(actor),
            )
    except IntegrityError as exc:  # the same name saved at the same moment
        raise ValidationError({"name": NAME_TAKEN}) from exc


def update_segment(
    *, segment: Segment, name: str, definition: Any, description: str | None = None
) -> Segment:
    name, _ = _clean(name=name, raw=definition, exclude_pk=segment.pk)
    segment.name = name
    if description is not None:
        segment.description = description.strip()
    if segment.definition != definition:
        segment.definition = definition
        segment.last_count = None
        segment.counted_at = None
    try:
        with transaction.atomic():
            segment.save()
    except IntegrityError as exc:
        raise ValidationError({"name": NAME_TAKEN}) from exc
    return segment


def record_count(*, segment: Segment, count: int) -> None:
    """Keep the count just taken, for the index page."""
    now = timezone.now()
    Segment.objects.filter(pk=segment.pk).update(last_count=count, counted_at=now)
    segment.last_count, segment.counted_at = count, now


def delete_segment(*, segment: Segment) -> None:
    """Refused while a campaign that has not started would still read it.

    Campaigns that ran keep their ledger, which is the record of who they
    targeted; the segment itself may go.
    """
    using = sorted(
        {
            *segment.campaigns.filter(status__in=UNSTARTED).values_list("name", flat=True),
            *segment.excluding_campaigns.filter(status__in=UNSTARTED).values_list(
                "name", flat=True
            ),
        }
    )
    if using:
        shown = ", ".join(f"“{name}”" for name in using[:5]) + (" …" if len(using) > 5 else "")
        raise SegmentInUse(
            f"Campaigns that have not started use this segment: {shown}. Take it out of them first."
        )
    segment.delete()
