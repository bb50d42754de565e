"""Writes for campaigns: create, edit, start, pause, resume, cancel, test sends."""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses, parseaddr
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone

from campaigns import abtest, schedule
from campaigns.editor import Body, body_for, clean_tag_names
from campaigns.models import Campaign, CampaignServer, Tag, Template
from campaigns.rendering import (
    FieldAndTemplateErrors,
    TemplateProblem,
    TemplateValidationError,
    compiled_for,
    sample_context,
    validate_templates,
)
from campaigns.selectors import (
    audience_condition,
    campaigns_using_layout,
    template_check_members,
)
from delivery.models import Delivery, SmtpServer
from delivery.pipeline import gate
from delivery.services import KEEP, Keep
from postino import jobs
from postino.actors import signed_in
from subscribers.models import MailingList, Segment, Subscriber

MAX_TEST_RECIPIENTS = 20

log = logging.getLogger(__name__)


class CampaignStateError(Exception):
    """The campaign is not in a state that allows the requested action."""


def validate_from_address(value: str, field: str = "from_email") -> str:
    value = (value or "").strip()
    name, address = parseaddr(value)
    if not address or "@" not in address or "\n" in value or "\r" in value:
        raise ValidationError({field: "Enter an address such as News <news@example.com>."})
    try:
        validate_email(address)
    except ValidationError as exc:
        raise ValidationError({field: f"{address!r} is not a valid email address."}) from exc
    del name
    return value


def _check_templates(
    *,
    subject: str,
    html: str,
    text: str,
    template: Template | None,
    lists: Iterable[MailingList] = (),
) -> None:
    # Raises campaigns.rendering.TemplateValidationError with field, line and
    # message. Data-dependent problems (a member without an attribute the template
    # needs) are warnings, shown by the pages (campaigns.selectors.template_warnings).
    validate_templates(
        subject=subject,
        html=html,
        text=text,
        layout=template.html if template else None,
        members=template_check_members(lists),
    )


def _validate_campaign(
    *,
    name: str,
    subject: str,
    from_email: str,
    reply_to: str,
    body: Body,
    text: str,
    template: Template | None,
    lists: list[MailingList],
    routing: dict[str, Any],
    preheader: str = "",
) -> tuple[str, str, Routing]:
    """Every check a campaign's fields get, all of them, raised once.

    Returns the cleaned From, Reply-To and routing. Raises
    ``TemplateValidationError`` when only templates are wrong (their line and
    message), ``FieldAndTemplateErrors`` when any field is, with the template
    problems alongside, so nobody fixes one field per round.
    """
    errors: dict[str, list[ValidationError]] = {}

    def collect(exc: ValidationError) -> None:
        exc.update_error_dict(errors)

    if not name.strip():
        collect(ValidationError({"name": "A campaign needs a name."}))
    if not subject.strip():
        collect(ValidationError({"subject": "A campaign needs a subject."}))
    if not body.html.strip():
        if body.markdown is not None:
            collect(ValidationError({"source": "A campaign needs a body: write the Markdown."}))
        else:
            collect(ValidationError({"html": "A campaign needs an HTML body."}))
    if len(preheader) > PREHEADER_MAX:
        collect(
            ValidationError(
                {"preheader": f"At most {PREHEADER_MAX} characters; inboxes show about 100."}
            )
        )
    try:
        from_email = validate_from_address(from_email)
    except ValidationError as exc:
        collect(exc)
    if reply_to:
        try:
            reply_to = validate_from_address(reply_to, "reply_to")
        except ValidationError as exc:
            collect(exc)
    checked_routing: Routing | None = None
    try:
        checked_routing = validate_routing(**routing)
    except ValidationError as exc:
        collect(exc)
    problems: list[TemplateProblem] = []
    try:
        _check_templates(subject=subject, html=body.html, text=text, template=template, lists=lists)
    except TemplateValidationError as exc:
        # In Markdown mode on the Markdown's own lines: that is what the author sees.
        problems = body.problems_in_source(exc.problems)
    if errors:
        raise FieldAndTemplateErrors(errors, problems)
    if problems:
        raise TemplateValidationError(problems)
    assert checked_routing is not None
    return from_email, reply_to, checked_routing


# Integer columns are 32-bit signed in PostgreSQL.
MAX_INT = 2**31 - 1


@dataclass(frozen=True, slots=True)
class Routing:
    """Which servers a campaign sends through, by weight, and when it pauses itself."""

    smtp_weight: int
    extra_servers: list[tuple[SmtpServer, int]]
    max_error_rate: float | None
    max_errors: int | None


def _weight_ok(weight: int) -> bool:
    return isinstance(weight, int) and not isinstance(weight, bool) and 1 <= weight <= MAX_INT


def validate_routing(
    *,
    smtp_server: SmtpServer | None,
    smtp_weight: int,
    extra_servers: Sequence[tuple[SmtpServer, int]],
    max_error_rate: float | None,
    max_errors: int | None,
) -> Routing:
    """Check the servers, weights and circuit-breaker thresholds; all problems at once.

    Weights are relative shares: 3 and 1 send three messages through the first
    server for each one through the second (among servers in rotation).
    """
    errors: dict[str, list[str]] = {}
    if not _weight_ok(smtp_weight):
        errors["smtp_weight"] = ["A weight is a whole number of at least 1."]
    extras: list[tuple[SmtpServer, int]] = []
    problems: list[str] = []
    seen: set[int] = set()
    if extra_servers and smtp_server is None:
        problems.append("Choose the main SMTP server first; extra servers share its traffic.")
    for server, weight in extra_servers:
        if smtp_server is not None and server.pk == smtp_server.pk:
            problems.append(
                f"{server.name} is already the main server; "
                "raise the main server's weight instead of adding it again."
            )
        elif server.pk in seen:
            problems.append(f"{server.name} is listed more than once.")
        elif not _weight_ok(weight):
            problems.append(f"{server.name}: a weight is a whole number of at least 1.")
        seen.add(server.pk)
        extras.append((server, weight))
    if problems:
        errors["extra_smtp_servers"] = problems
    if max_error_rate is not None and not (
        math.isfinite(max_error_rate) and 0.0 <= max_error_rate <= 1.0
    ):
        errors["max_error_rate"] = ["The error rate is a fraction from 0 to 1 (0.25 means 25%)."]
    if max_errors is not None and not _weight_ok(max_errors):
        errors["max_errors"] = [
            "Pause after at least 1 failure in a row, or leave it empty for the default."
        ]
    if errors:
        raise ValidationError(errors)
    return Routing(
        smtp_weight=smtp_weight,
        extra_servers=extras,
        max_error_rate=None if max_error_rate is None else float(max_error_rate),
        max_errors=max_errors,
    )


def _apply_routing(campaign: Campaign, routing: Routing) -> None:
    """Set the fields; call inside the transaction that saves the campaign."""
    campaign.smtp_weight = routing.smtp_weight
    campaign.max_error_rate = routing.max_error_rate
    campaign.max_errors = routing.max_errors


def _write_server_links(campaign: Campaign, routing: Routing) -> None:
    # Rewritten whole: rows keep the order given (the send pipeline reads them by id).
    CampaignServer.objects.filter(campaign=campaign).delete()
    CampaignServer.objects.bulk_create(
        CampaignServer(campaign=campaign, smtp_server=server, weight=weight)
        for server, weight in routing.extra_servers
    )


def extra_servers_of(campaign: Campaign) -> list[tuple[SmtpServer, int]]:
    """The campaign's additional servers with their weights, in the order they were given."""
    return [
        (link.smtp_server, link.weight)
        for link in campaign.server_links.select_related("smtp_server").order_by("id")
    ]


# Inboxes show the first 40 to 130 characters; the column allows 255.
PREHEADER_MAX = 255
TAG_NAME_MAX = 50


def clean_preheader(value: str) -> str:
    """One line: a preheader is shown in an inbox's list, where newlines mean nothing."""
    return " ".join((value or "").split())


def tags_named(names: Sequence[str]) -> list[Tag]:
    """The tags with these names, made on first use; an existing tag is matched
    ignoring case, so "Promo" and "promo" stay one tag."""
    too_long = [name for name in names if len(name) > TAG_NAME_MAX]
    if too_long:
        raise ValidationError(
            {"tags": f"A tag has at most {TAG_NAME_MAX} characters: {too_long[0][:60]}…"}
        )
    found: list[Tag] = []
    for name in names:
        tag = Tag.objects.filter(name__iexact=name).first()
        if tag is None:
            # Two editors adding one new tag at once: the unique name lets one win.
            tag, _ = Tag.objects.get_or_create(name=name)
        found.append(tag)
    return found


def create_campaign(
    *,
    name: str,
    subject: str,
    from_email: str,
    html: str,
    lists: Iterable[MailingList],
    smtp_server: SmtpServer | None,
    text: str = "",
    reply_to: str = "",
    template: Template | None = None,
    actor: Any = None,
    extra_servers: Sequence[tuple[SmtpServer, int]] = (),
    smtp_weight: int = 1,
    max_error_rate: float | None = None,
    max_errors: int | None = None,
    segments: Iterable[Segment] = (),
    excluded_segments: Iterable[Segment] = (),
    track_opens: bool | None = None,
    track_clicks: bool | None = None,
    tracking_privacy: bool = False,
    preheader: str = "",
    editor: str = Campaign.Editor.HTML,
    source: str = "",
    tags: Iterable[str] = (),
    public_archive: bool = False,
) -> Campaign:
    """A draft. ``max_error_rate``/``max_errors`` None: the POSTINO defaults apply;
    so do ``track_opens``/``track_clicks`` None (TRACK_OPENS, TRACK_CLICKS).
    In Markdown ``editor`` mode the HTML is made from ``source`` and ``html`` is
    ignored (campaigns.editor); ``tags`` are names, made on first use.

    Every problem is reported in one raise (see ``_validate_campaign``)."""
    lists = list(lists)  # read twice: checked against its members, then stored
    segments, excluded_segments = _check_segments(segments, excluded_segments)
    body = body_for(editor=editor, html=html, source=source)
    preheader = clean_preheader(preheader)
    tag_names = clean_tag_names(list(tags))
    from_email, reply_to, routing = _validate_campaign(
        name=name,
        subject=subject,
        from_email=from_email,
        reply_to=reply_to,
        body=body,
        preheader=preheader,
        text=text,
        template=template,
        lists=lists,
        routing={
            "smtp_server": smtp_server,
            "smtp_weight": smtp_weight,
            "extra_servers": extra_servers,
            "max_error_rate": max_error_rate,
            "max_errors": max_errors,
        },
    )
    with transaction.atomic():
        campaign = Campaign(
            name=name.strip(),
            subject=subject,
            preheader=preheader,
            from_email=from_email,
            reply_to=reply_to,
            editor=body.editor,
            source=body.source,
            html=body.html,
            text=text,
            template=template,
            smtp_server=smtp_server,
            public_archive=public_archive,
            created_by=signed_in(actor),
            tracking_privacy=tracking_privacy,
        )
        if track_opens is not None:
            campaign.track_opens = track_opens
        if track_clicks is not None:
            campaign.track_clicks = track_clicks
        _apply_routing(campaign, routing)
        campaign.save()
        campaign.lists.set(list(lists))
        campaign.segments.set(segments)
        campaign.excluded_segments.set(excluded_segments)
        campaign.tags.set(tags_named(tag_names))
        _write_server_links(campaign, routing)
    return campaign


def _check_segments(
    segments: Iterable[Segment], excluded: Iterable[Segment]
) -> tuple[list[Segment], list[Segment]]:
    segments, excluded = list(segments), list(excluded)
    both = sorted({s.name for s in segments} & {s.name for s in excluded})
    if both:
        raise ValidationError(
            {"excluded_segments": f"Both targeted and excluded: {', '.join(both)}."}
        )
    return segments, excluded


def update_campaign(
    *,
    campaign: Campaign,
    name: str,
    subject: str,
    from_email: str,
    html: str,
    lists: Iterable[MailingList],
    smtp_server: SmtpServer | None,
    text: str = "",
    reply_to: str = "",
    template: Template | None = None,
    extra_servers: Sequence[tuple[SmtpServer, int]] | Keep = KEEP,
    smtp_weight: int | Keep = KEEP,
    max_error_rate: float | Keep | None = KEEP,
    max_errors: int | Keep | None = KEEP,
    segments: Iterable[Segment] | Keep = KEEP,
    excluded_segments: Iterable[Segment] | Keep = KEEP,
    track_opens: bool | Keep = KEEP,
    track_clicks: bool | Keep = KEEP,
    tracking_privacy: bool | Keep = KEEP,
    preheader: str | Keep = KEEP,
    editor: str | Keep = KEEP,
    source: str | Keep = KEEP,
    tags: Iterable[str] | Keep = KEEP,
    public_archive: bool | Keep = KEEP,
) -> Campaign:
    """Edit a draft or scheduled campaign. Arguments left out (``KEEP``) keep
    their stored values; ``None`` thresholds mean the POSTINO defaults."""
    if not campaign.is_editable:
        raise CampaignStateError(f"a {campaign.status} campaign can no longer be edited")
    lists = list(lists)  # read twice: checked against its members, then stored
    chosen_segments, chosen_excluded = _check_segments(
        campaign.segments.all() if isinstance(segments, Keep) else segments,
        campaign.excluded_segments.all()
        if isinstance(excluded_segments, Keep)
        else excluded_segments,
    )
    body = body_for(
        editor=campaign.editor if isinstance(editor, Keep) else editor,
        html=html,
        source=campaign.source if isinstance(source, Keep) else source,
    )
    preheader = campaign.preheader if isinstance(preheader, Keep) else clean_preheader(preheader)
    tag_names = None if isinstance(tags, Keep) else clean_tag_names(list(tags))
    from_email, reply_to, routing = _validate_campaign(
        name=name,
        subject=subject,
        from_email=from_email,
        reply_to=reply_to,
        body=body,
        preheader=preheader,
        text=text,
        template=template,
        lists=lists,
        routing={
            "smtp_server": smtp_server,
            "smtp_weight": campaign.smtp_weight if isinstance(smtp_weight, Keep) else smtp_weight,
            "extra_servers": (
                extra_servers_of(campaign) if isinstance(extra_servers, Keep) else extra_servers
            ),
            "max_error_rate": (
                campaign.max_error_rate if isinstance(max_error_rate, Keep) else max_error_rate
            ),
            "max_errors": campaign.max_errors if isinstance(max_errors, Keep) else max_errors,
        },
    )
    with transaction.atomic():
        campaign.name = name.strip()
        campaign.subject = subject
        campaign.from_email = from_email
        campaign.reply_to = reply_to
        campaign.preheader = preheader
        campaign.editor = body.editor
        campaign.source = body.source
        campaign.html = body.html
        campaign.text = text
        campaign.template = template
        campaign.smtp_server = smtp_server
        for name, value in (
            ("track_opens", track_opens),
            ("track_clicks", track_clicks),
            ("tracking_privacy", tracking_privacy),
            ("public_archive", public_archive),
        ):
            if not isinstance(value, Keep):
                setattr(campaign, name, value)
        _apply_routing(campaign, routing)
        campaign.save()
        campaign.lists.set(list(lists))
        campaign.segments.set(chosen_segments)
        campaign.excluded_segments.set(chosen_excluded)
        if tag_names is not None:
            campaign.tags.set(tags_named(tag_names))
        _write_server_links(campaign, routing)
    return campaign


def snapshot_audience(campaign: Campaign) -> int:
    """Write one pending ledger row per recipient, in one set-based statement.

    Recipients are those of ``campaigns.selectors.audience_condition`` (enabled,
    confirmed on any of the campaign's lists, deduplicated, not suppressed).
    ON CONFLICT makes a second snapshot (a retry after a crash) a no-op for
    rows already there.
    """
    condition, condition_params = audience_condition(campaign)
    ab_test = abtest.test_of(campaign)
    if ab_test is not None:
        return abtest.snapshot_split(campaign, ab_test, condition, condition_params)
    now = timezone.now()
    delivery = Delivery._meta.db_table
    subscriber = Subscriber._meta.db_table
    sql = f"""
        INSERT INTO {delivery}
            (campaign_id, subscriber_id, status, attempts, smtp_reply, message_id,
             provider_message_id, created_at, updated_at)
        SELECT %s, s.id, %s, 0, '', '', '', %s, %s
        FROM {subscriber} s
        WHERE {condition}
        ORDER BY s.id
        ON CONFLICT (campaign_id, subscriber_id) DO NOTHING
    """  # noqa: S608 - table names come from model metadata, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [campaign.pk, Delivery.Status.PENDING, now, now, *condition_params])
        return cursor.rowcount


def _check_sendable(campaign: Campaign) -> None:
    problems: dict[str, str] = {}
    if campaign.smtp_server_id is None:
        problems["smtp_server"] = "Choose the SMTP server to send through."
    if not campaign.lists.exists() and not campaign.segments.exists():
        problems["lists"] = "Choose at least one list or segment."
    if problems:
        raise ValidationError(problems)
    _check_templates(
        subject=campaign.subject,
        html=campaign.html,
        text=campaign.text,
        template=campaign.template,
        lists=campaign.lists.all(),
    )


def check_schedule(scheduled_at: datetime | None, schedule_timezone: str = "") -> None:
    """Refuse a start time that has already passed: it would start at once.

    The message shows the time in the zone it was chosen in (``schedule_timezone``,
    blank: the site's), as the person typed it."""
    if scheduled_at is None:
        return
    if timezone.is_naive(scheduled_at):
        # Which zone it meant is a guess; guessing wrong sends hours early.
        raise ValidationError(
            {
                "scheduled_at": "Give the time with its time zone, "
                "such as 2030-01-01T09:00:00Z or 2030-01-01T10:00:00+01:00, "
                "or name the zone it is in."
            }
        )
    now = timezone.now()
    if scheduled_at <= now:
        zone_name = schedule_timezone or schedule.site_zone_name()
        raise ValidationError(
            {
                "scheduled_at": (
                    f"{schedule.in_zone(scheduled_at, zone_name):%Y-%m-%d %H:%M} ({zone_name}) "
                    f"has already passed; it is now "
                    f"{schedule.in_zone(now, zone_name):%Y-%m-%d %H:%M}. "
                    "Choose a later time, or leave it empty to start now."
                )
            }
        )


def check_startable(
    *, campaign: Campaign, scheduled_at: datetime | None = None, schedule_timezone: str = ""
) -> None:
    """What ``start_campaign`` would refuse, checked without changing anything, so
    the confirmation step only asks about a start that can happen."""
    if campaign.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
        raise CampaignStateError(f"a {campaign.status} campaign cannot be started")
    check_schedule(scheduled_at, schedule.clean_zone_name(schedule_timezone))
    _check_sendable(campaign)


NOBODY_TO_SEND_TO = (
    "Nobody would receive this campaign: its lists and segments have no confirmed, enabled "
    "subscribers whose address is not suppressed."
)


def start_campaign(
    *, campaign: Campaign, scheduled_at: datetime | None = None, schedule_timezone: str = ""
) -> Campaign:
    """Start now, or schedule for later. Sending happens in Celery chunk tasks.

    A time in the past is refused rather than taken as "now" (a typo in the
    year must not send to everyone), and so is a start that reaches nobody.
    ``schedule_timezone`` is the IANA zone the time was chosen in, kept to show
    it as entered (blank: the site's ``TIME_ZONE``); ``scheduled_at`` is an instant.
    """
    zone_name = schedule.clean_zone_name(schedule_timezone)
    check_schedule(scheduled_at, zone_name)
    _check_sendable(campaign)
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.status not in {Campaign.Status.DRAFT, Campaign.Status.SCHEDULED}:
            raise CampaignStateError(f"a {locked.status} campaign cannot be started")
        if scheduled_at is not None:
            locked.status = Campaign.Status.SCHEDULED
            locked.status_reason = ""
            locked.scheduled_at = scheduled_at
            locked.schedule_timezone = zone_name
            locked.save(
                update_fields=[
                    "status",
                    "status_reason",
                    "scheduled_at",
                    "schedule_timezone",
                    "updated_at",
                ]
            )
            return locked
        _begin_sending(locked)
    return locked


def _begin_sending(locked: Campaign) -> None:
    """Snapshot the audience and run; call with the campaign's row locked."""
    written = snapshot_audience(locked)
    if not written and not Delivery.objects.filter(campaign=locked).exists():
        # Raising rolls the transaction back: the campaign stays as it was.
        raise ValidationError({"lists": NOBODY_TO_SEND_TO})
    locked.status = Campaign.Status.RUNNING
    locked.status_reason = ""
    locked.started_at = timezone.now()
    locked.save(update_fields=["status", "status_reason", "started_at", "updated_at"])
    jobs.dispatch_campaign(locked.pk)


def start_due_scheduled_campaigns() -> list[int]:
    """Start every scheduled campaign whose time has come; the ids started."""
    now = timezone.now()
    due = list(
        Campaign.objects.filter(
            status=Campaign.Status.SCHEDULED, scheduled_at__lte=now
        ).values_list("pk", flat=True)
    )
    return [campaign_id for campaign_id in due if start_scheduled_campaign(campaign_id, now=now)]


def start_scheduled_campaign(campaign_id: int, *, now: datetime) -> bool:
    """Start one campaign the scheduler found due at ``now``; False when it did not start.

    Between the scheduler's query and this call someone may have rescheduled,
    unscheduled or cancelled it, so the row is locked and claimed only if it
    is still scheduled and still due: a campaign moved to next week (or back
    to draft) must not start now. A reschedule that comes second waits for the
    lock, then finds it running and is refused (see ``reschedule_campaign``).
    A due campaign that cannot start goes back to draft with the reason.
    """
    still_due = {"pk": campaign_id, "status": Campaign.Status.SCHEDULED, "scheduled_at__lte": now}
    campaign = Campaign.objects.filter(**still_due).first()
    if campaign is None:
        return False
    try:
        _check_sendable(campaign)
        with transaction.atomic():
            locked = Campaign.objects.select_for_update().filter(**still_due).first()
            if locked is None:
                return False
            _begin_sending(locked)
    except (ValidationError, TemplateValidationError) as exc:
        Campaign.objects.filter(**still_due).update(
            status=Campaign.Status.DRAFT,
            status_reason=f"Scheduled start failed: {exc}",
            updated_at=timezone.now(),
        )
        return False
    return True


def reschedule_campaign(
    *, campaign: Campaign, scheduled_at: datetime | None, schedule_timezone: str = ""
) -> Campaign:
    """Move a scheduled campaign to another time (and zone).

    A conditional UPDATE on the status decides against the scheduler: if it
    claimed the campaign first, nothing changes here and the caller is told the
    campaign already started; if this comes first, the scheduler finds the
    campaign no longer due (``start_scheduled_campaign``).
    """
    zone_name = schedule.clean_zone_name(schedule_timezone)
    if scheduled_at is None:
        raise ValidationError({"scheduled_at": "Choose the new date and time."})
    check_schedule(scheduled_at, zone_name)
    changed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED).update(
        scheduled_at=scheduled_at,
        schedule_timezone=zone_name,
        status_reason="",
        updated_at=timezone.now(),
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignStateError(_not_scheduled(campaign, "rescheduled"))
    return campaign


def unschedule_campaign(*, campaign: Campaign) -> Campaign:
    """Take a scheduled campaign back to draft, to edit and schedule again.

    Unlike cancelling (final), nothing is lost. The same conditional UPDATE as
    ``reschedule_campaign`` decides a race with the scheduler.
    """
    changed = Campaign.objects.filter(pk=campaign.pk, status=Campaign.Status.SCHEDULED).update(
        status=Campaign.Status.DRAFT,
        status_reason="",
        scheduled_at=None,
        schedule_timezone="",
        updated_at=timezone.now(),
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignStateError(_not_scheduled(campaign, "unscheduled"))
    return campaign


def _not_scheduled(campaign: Campaign, action: str) -> str:
    if campaign.status == Campaign.Status.DRAFT:
        return f"a draft campaign cannot be {action}: it is not scheduled"
    if campaign.status in {Campaign.Status.RUNNING, Campaign.Status.PAUSED}:
        return (
            f"the campaign cannot be {action}: it has already started sending; "
            "pause or cancel it instead"
        )
    return f"a {campaign.status} campaign cannot be {action}"


def _transition(campaign: Campaign, *, allowed: set[str], to: str, reason: str = "") -> Campaign:
    # A conditional UPDATE: concurrent callers cannot both win the transition.
    changed = Campaign.objects.filter(pk=campaign.pk, status__in=allowed).update(
        status=to, status_reason=reason, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignStateError(f"a {campaign.status} campaign cannot be {to}")
    return campaign


def pause_campaign(*, campaign: Campaign, reason: str = "") -> Campaign:
    """Pause; every chunk stops before its next message (``gate.request_stop``).

    Messages already on the wire (at most one per connection a running chunk
    holds) still finish and are recorded; the chunks' other rows go back to
    pending.
    """
    campaign = _transition(
        campaign, allowed={Campaign.Status.RUNNING}, to=Campaign.Status.PAUSED, reason=reason
    )
    _stop_after_commit(campaign.pk)
    return campaign


def pause_automatically(*, campaign: Campaign, reason: str) -> bool:
    """Pause a running campaign because something went wrong (errors, bounces,
    an unreachable server); False when it was no longer running."""
    try:
        pause_campaign(campaign=campaign, reason=reason)
    except CampaignStateError:
        return False
    log.warning("campaign %s: %s", campaign.pk, reason)
    return True


def _stop_after_commit(campaign_id: int) -> None:
    # After commit: a chunk that meets the stop key reads the status to tell a
    # stale key from a real one, and must then find the campaign not running.
    # Set inside a caller's open transaction, the key would read as stale and
    # be dropped, and the chunk would go on sending.
    transaction.on_commit(lambda: gate.request_stop(campaign_id))


def resume_campaign(*, campaign: Campaign) -> Campaign:
    # Cleared first: a chunk dispatched below must not find the old stop.
    gate.clear_stop(campaign.pk)
    campaign = _transition(campaign, allowed={Campaign.Status.PAUSED}, to=Campaign.Status.RUNNING)
    jobs.dispatch_campaign(campaign.pk)
    return campaign


def cancel_campaign(*, campaign: Campaign) -> Campaign:
    campaign = _transition(
        campaign,
        allowed={Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED},
        to=Campaign.Status.CANCELLED,
    )
    _stop_after_commit(campaign.pk)
    Campaign.objects.filter(pk=campaign.pk).update(finished_at=timezone.now())
    return campaign


def parse_test_recipients(raw: str | Sequence[str]) -> list[str]:
    """Parse 'a@x, b@y' or a list; raise ValidationError naming the bad address."""
    if isinstance(raw, str):
        items = [addr for _, addr in getaddresses([raw.replace(";", ",").replace("\n", ",")])]
    else:
        items = list(raw)
    emails: list[str] = []
    for item in items:
        address = (item or "").strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError({"emails": f"{item!r} is not a valid email address."}) from exc
        if address not in emails:
            emails.append(address)
    if not emails:
        raise ValidationError({"emails": "Give at least one address to send the test to."})
    if len(emails) > MAX_TEST_RECIPIENTS:
        raise ValidationError({"emails": f"At most {MAX_TEST_RECIPIENTS} test recipients."})
    return emails


def send_test(*, campaign: Campaign, emails: Sequence[str]) -> list[str]:
    """Queue a test send of the campaign to a few addresses (not recorded in the ledger)."""
    recipients = parse_test_recipients(emails)
    _check_sendable_for_test(campaign, recipients)
    jobs.send_test_messages(campaign.pk, recipients)
    return recipients


def _check_sendable_for_test(campaign: Campaign, recipients: Sequence[str] = ()) -> None:
    if campaign.smtp_server_id is None:
        raise ValidationError({"smtp_server": "Choose the SMTP server to send through."})
    _check_templates(
        subject=campaign.subject,
        html=campaign.html,
        text=campaign.text,
        template=campaign.template,
        lists=campaign.lists.all(),
    )
    strangers = set(recipients) - set(
        Subscriber.objects.filter(email__in=recipients).values_list("email", flat=True)
    )
    if strangers:
        # An address that is no subscriber gets the sample subscriber, as the
        # preview shows it; refuse here rather than fail in the worker.
        try:
            compiled_for(campaign).render(
                sample_context(campaign_name=campaign.name, campaign_subject=campaign.subject)
            )
        except TemplateValidationError as exc:
            raise ValidationError(
                {
                    "emails": (
                        f"{', '.join(sorted(strangers))} would get the sample subscriber, "
                        f"which the template cannot render ({exc}). Send the test to a "
                        "list member's address instead."
                    )
                }
            ) from exc


def delete_campaign(*, campaign: Campaign) -> None:
    """Delete a draft, or a campaign cancelled before it queued anything.

    Anything that ever had a ledger is kept (archive it instead); a scheduled,
    running or paused campaign must be cancelled first. The row is locked, so
    a concurrent start either happens first (and the delete is refused) or
    waits and finds the campaign gone.
    """
    with transaction.atomic():
        locked = Campaign.objects.select_for_update().filter(pk=campaign.pk).first()
        if locked is None:
            return
        never_sent = locked.status == Campaign.Status.CANCELLED and not locked.deliveries.exists()
        if locked.status != Campaign.Status.DRAFT and not never_sent:
            hint = (
                "archive it instead"
                if locked.is_archivable
                else "cancel it first; a cancelled campaign that sent nothing can be deleted"
            )
            raise CampaignStateError(f"a {locked.status} campaign cannot be deleted: {hint}")
        locked.delete()


def archive_campaign(*, campaign: Campaign) -> Campaign:
    """Hide a finished or cancelled campaign from the default index; its figures stay."""
    changed = Campaign.objects.filter(
        pk=campaign.pk,
        status__in=(Campaign.Status.FINISHED, Campaign.Status.CANCELLED),
        archived_at__isnull=True,
    ).update(archived_at=timezone.now(), updated_at=timezone.now())
    campaign.refresh_from_db()
    if not changed:
        if campaign.archived_at is not None:
            raise CampaignStateError("the campaign is already archived")
        raise CampaignStateError(
            f"a {campaign.status} campaign cannot be archived: only finished or cancelled ones"
        )
    return campaign


def unarchive_campaign(*, campaign: Campaign) -> Campaign:
    changed = Campaign.objects.filter(pk=campaign.pk, archived_at__isnull=False).update(
        archived_at=None, updated_at=timezone.now()
    )
    campaign.refresh_from_db()
    if not changed:
        raise CampaignStateError("the campaign is not archived")
    return campaign


def duplicate_campaign(*, campaign: Campaign, actor: Any = None) -> Campaign:
    """A new draft with the same content, lists, layout, servers, weights and thresholds.

    Nothing of the original's sending is copied: no ledger, schedule or status.
    The copy is not re-validated: it holds exactly what the original holds, and
    starting it checks it as any draft.
    """
    name_field = Campaign._meta.get_field("name")
    assert name_field.max_length is not None
    with transaction.atomic():
        copy = Campaign(
            name=f"Copy of {campaign.name}"[: name_field.max_length],
            subject=campaign.subject,
            preheader=campaign.preheader,
            from_email=campaign.from_email,
            reply_to=campaign.reply_to,
            editor=campaign.editor,
            source=campaign.source,
            html=campaign.html,
            text=campaign.text,
            template_id=campaign.template_id,
            smtp_server_id=campaign.smtp_server_id,
            smtp_weight=campaign.smtp_weight,
            max_error_rate=campaign.max_error_rate,
            max_errors=campaign.max_errors,
            track_opens=campaign.track_opens,
            track_clicks=campaign.track_clicks,
            tracking_privacy=campaign.tracking_privacy,
            public_archive=campaign.public_archive,
            created_by=signed_in(actor),
        )
        copy.save()
        copy.lists.set(list(campaign.lists.all()))
        copy.segments.set(list(campaign.segments.all()))
        copy.excluded_segments.set(list(campaign.excluded_segments.all()))
        copy.tags.set(list(campaign.tags.all()))
        CampaignServer.objects.bulk_create(
            CampaignServer(campaign=copy, smtp_server_id=link.smtp_server_id, weight=link.weight)
            for link in campaign.server_links.order_by("id")
        )
        abtest.copy_test(source=campaign, target=copy)
    return copy


class LayoutInUse(Exception):
    """Campaigns use the layout, so it cannot be deleted (or, while they send, changed)."""


def _clean_layout(*, name: str, html: str, exclude_pk: int | None) -> str:
    """Check a layout's name and Jinja2 source; every problem at once."""
    name = name.strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["name"] = ["Give the layout a name."]
    elif Template.objects.filter(name__iexact=name).exclude(pk=exclude_pk or 0).exists():
        errors["name"] = [f"A layout named “{name}” already exists."]
    if not html.strip():
        errors["html"] = ["A layout needs HTML with {% block content %}{% endblock %} in it."]
    else:
        try:
            # The body is a placeholder: this checks the layout's own syntax,
            # its content block and a trial render with the sample subscriber.
            validate_templates(subject="Sample", html="<p>Sample</p>", layout=html)
        except TemplateValidationError as exc:
            errors["html"] = [
                f"Line {problem.line}: {problem.message}" if problem.line else problem.message
                for problem in exc.problems
            ]
    if errors:
        raise ValidationError(errors)
    return name


def create_layout(*, name: str, html: str) -> Template:
    name = _clean_layout(name=name, html=html, exclude_pk=None)
    return Template.objects.create(name=name, html=html)


def update_layout(*, layout: Template, name: str, html: str) -> Template:
    """Edit a layout. Refused while a running or paused campaign uses it: workers
    pick a changed layout up mid-send, and one campaign would go out in two looks."""
    name = _clean_layout(name=name, html=html, exclude_pk=layout.pk)
    sending = campaigns_using_layout(
        layout, statuses=(Campaign.Status.RUNNING, Campaign.Status.PAUSED)
    )
    if sending and html != layout.html:
        raise LayoutInUse(
            f"the layout is used by {_quoted(sending)}, which is sending; "
            "change it once the campaign has finished"
        )
    layout.name = name
    layout.html = html
    layout.save()
    return layout


def delete_layout(*, layout: Template) -> None:
    """Delete a layout no campaign uses (``Campaign.template`` is PROTECT)."""
    with transaction.atomic():
        users = campaigns_using_layout(layout)
        if users:
            raise LayoutInUse(
                f"the layout is used by {_quoted(users)}; choose another layout for "
                f"{'it' if len(users) == 1 else 'them'} first"
            )
        layout.delete()


def _quoted(names: Sequence[str], *, most: int = 5) -> str:
    shown = ", ".join(f"“{name}”" for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
