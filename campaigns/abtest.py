"""A/B tests: two to four variants of a campaign's subject, from name or body
go to a test share of its audience, split evenly; after a wait, the variant
people opened (or clicked) most goes to the rest.

The ledger carries it. At start the audience snapshot writes the test share's
rows ``pending`` with their ``variant`` and the rest ``held`` (never claimed):
a pseudo-random permutation of the audience, numbered by ``row_number()``,
in the same statement. Phases move on beat's tick (``advance``):

* testing: the variants' rows are sent like any campaign's;
* waiting: every test row has ended; ``wait_minutes`` from then, the winner
  is picked by the metric (people's unique opens or clicks over messages
  sent, from tracking's engagement) or, with ``manual``, by hand;
* sending_winner: the held rows become ``pending`` (variant left empty: the
  rest of the audience, who get the winner) and the campaign is dispatched;
* done: the campaign finished.

Each phase change is a conditional UPDATE on the phase, so two ticks (or a
tick and a person choosing) never both act; releasing is batched and can be
repeated, so a crash midway is finished by the next tick.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from campaigns.html_to_text import collapse_whitespace, html_to_text
from campaigns.models import AbTest, AbVariant, Campaign
from campaigns.rendering import CompiledCampaign, TemplateValidationError, compiled_for
from delivery.models import Delivery
from postino import jobs
from subscribers.models import Subscriber
from tracking.models import Engagement

MIN_VARIANTS = 2
MAX_VARIANTS = 4
MAX_TEST_PERCENT = 90
MAX_WAIT_MINUTES = 7 * 24 * 60
# What a variant may change; a test changes one of them in every variant.
FIELDS = ("subject", "from_name", "html")
# Held rows released per statement when the winner goes out.
RELEASE_BATCH = 20_000
# Knuth's multiplicative hash: a permutation of the audience that differs per
# campaign and needs no random() (the same on PostgreSQL and SQLite).
_SPREAD = 2654435761
_MODULUS = 4294967296


class AbTestError(Exception):
    """An A/B action that the test's phase does not allow."""


@dataclass(frozen=True)
class VariantIn:
    subject: str = ""
    from_name: str = ""
    html: str = ""

    @property
    def changes(self) -> list[str]:
        return [name for name in FIELDS if getattr(self, name).strip()]


def test_of(campaign: Campaign) -> AbTest | None:
    """The campaign's A/B test, or None: one query, none when the campaign was
    read with ``select_related("ab_test")``."""
    try:
        return campaign.ab_test
    except AbTest.DoesNotExist:
        return None


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: message})


def validate(
    campaign: Campaign,
    *,
    variants: list[VariantIn],
    test_percent: int,
    wait_minutes: int,
    metric: str,
) -> None:
    """Raise ValidationError naming the field and the problem, or return."""
    if not MIN_VARIANTS <= len(variants) <= MAX_VARIANTS:
        raise _refuse("variants", f"Give {MIN_VARIANTS} to {MAX_VARIANTS} variants.")
    changed = {name for variant in variants for name in variant.changes}
    for index, variant in enumerate(variants):
        if len(variant.changes) != 1:
            raise _refuse(
                f"variants[{index}]",
                "Each variant changes one thing: the subject, the from name or the body.",
            )
    if len(changed) != 1:
        raise _refuse("variants", "All variants must change the same thing.")
    (field,) = changed
    values = [getattr(variant, field).strip() for variant in variants]
    if len(set(values)) != len(values):
        raise _refuse("variants", "Two variants are the same: each must differ.")
    if not 1 <= test_percent <= MAX_TEST_PERCENT:
        raise _refuse("test_percent", f"The test share is 1 to {MAX_TEST_PERCENT} percent.")
    if not 1 <= wait_minutes <= MAX_WAIT_MINUTES:
        raise _refuse("wait_minutes", f"Wait 1 to {MAX_WAIT_MINUTES} minutes (a week).")
    if metric not in AbTest.Metric.values:
        raise _refuse("metric", "The winner is picked by opens, clicks or by hand (manual).")
    tracked = {"opens": campaign.track_opens, "clicks": campaign.track_clicks}
    if metric in tracked and not tracked[metric]:
        raise _refuse("metric", f"Picking by {metric} needs {metric} tracking on the campaign.")
    if metric in tracked and campaign.tracking_privacy:
        raise _refuse(
            "metric",
            "Privacy mode counts nobody, so it cannot tell variants apart: pick by hand.",
        )
    for index, variant in enumerate(variants):
        try:
            _compile(campaign, variant)
        except TemplateValidationError as exc:
            raise _refuse(f"variants[{index}].{field}", str(exc)) from exc


def configure(
    *,
    campaign: Campaign,
    variants: list[VariantIn],
    test_percent: int = 20,
    wait_minutes: int = 60,
    metric: str = AbTest.Metric.OPENS,
) -> AbTest:
    """Set (or replace) a draft or scheduled campaign's A/B test."""
    if not campaign.is_editable:
        raise AbTestError(f"a {campaign.status} campaign's A/B test cannot change")
    validate(
        campaign,
        variants=variants,
        test_percent=test_percent,
        wait_minutes=wait_minutes,
        metric=metric,
    )
    with transaction.atomic():
        AbTest.objects.filter(campaign=campaign).delete()
        test = AbTest.objects.create(
            campaign=campaign, test_percent=test_percent, wait_minutes=wait_minutes, metric=metric
        )
        AbVariant.objects.bulk_create(
            AbVariant(
                ab_test=test,
                index=index,
                subject=variant.subject.strip(),
                from_name=variant.from_name.strip(),
                html=variant.html,
            )
            for index, variant in enumerate(variants)
        )
    return test


def copy_test(*, source: Campaign, target: Campaign) -> AbTest | None:
    """The source's test set up afresh on ``target`` (a duplicate): the same
    variants and settings, nothing of how it ran."""
    test = test_of(source)
    if test is None:
        return None
    copy = AbTest.objects.create(
        campaign=target,
        test_percent=test.test_percent,
        wait_minutes=test.wait_minutes,
        metric=test.metric,
    )
    AbVariant.objects.bulk_create(
        AbVariant(
            ab_test=copy,
            index=variant.index,
            subject=variant.subject,
            from_name=variant.from_name,
            html=variant.html,
        )
        for variant in test.variants.all()
    )
    return copy


def remove(*, campaign: Campaign) -> None:
    if not campaign.is_editable:
        raise AbTestError(f"a {campaign.status} campaign's A/B test cannot change")
    AbTest.objects.filter(campaign=campaign).delete()


def _compile(campaign: Campaign, variant: VariantIn | AbVariant) -> CompiledCampaign:
    """The campaign's templates with the variant's subject or body in place."""
    shadow = Campaign(
        pk=campaign.pk,
        subject=variant.subject.strip() or campaign.subject,
        preheader=campaign.preheader,
        html=variant.html if variant.html.strip() else campaign.html,
        text=campaign.text,
        template_id=campaign.template_id,
        updated_at=campaign.updated_at or timezone.now(),
    )
    if campaign.template_id:
        shadow.template = campaign.template
    return compiled_for(shadow)


class VariantRenderer:
    """What a sending process needs per variant: the compiled templates and the
    from name. Rows of the rest of the audience (no variant) get the winner's."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign = campaign
        self.test = test_of(campaign)
        self._variants: dict[int, AbVariant] = {}
        self._compiled: dict[int, CompiledCampaign] = {}
        if self.test is not None:
            self._variants = {v.index: v for v in self.test.variants.all()}

    @property
    def active(self) -> bool:
        return self.test is not None

    def index_for(self, variant: int | None) -> int | None:
        if self.test is None:
            return None
        if variant is not None:
            return variant
        if self.test.winner is None:
            # A row with no variant is claimable only once the winner is
            # released, so it is in the database by now.
            self.test.refresh_from_db(fields=["winner"])
        return self.test.winner

    def compiled(self, index: int) -> CompiledCampaign:
        if index not in self._compiled:
            self._compiled[index] = _compile(self.campaign, self._variants[index])
        return self._compiled[index]

    def from_name(self, index: int) -> str:
        return self._variants[index].from_name


# --- the audience split -------------------------------------------------------------


def test_size(total: int, test: AbTest, variants: int) -> int:
    """Recipients in the test share: ``test_percent`` of the audience, rounded
    up, at least one per variant (when there are that many)."""
    return min(total, max(math.ceil(total * test.test_percent / 100), variants))


def snapshot_split(campaign: Campaign, test: AbTest, condition: str, params: list[Any]) -> int:
    """The audience snapshot of a campaign with an A/B test, in one statement:
    the test share ``pending`` with its variant, the rest ``held``."""
    delivery = Delivery._meta.db_table
    subscriber = Subscriber._meta.db_table
    variants = test.variants.count()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {subscriber} s WHERE {condition}",  # noqa: S608
            params,
        )
        (total,) = cursor.fetchone()
        size = test_size(total, test, variants)
        now = timezone.now()
        cursor.execute(
            f"""
            INSERT INTO {delivery}
                (campaign_id, subscriber_id, status, variant, attempts, smtp_reply, message_id,
                 provider_message_id, created_at, updated_at)
            SELECT %s, x.id, CASE WHEN x.n <= %s THEN %s ELSE %s END,
                   CASE WHEN x.n <= %s THEN (x.n - 1) %% %s END, 0, '', '', '', %s, %s
            FROM (
                SELECT s.id, ROW_NUMBER() OVER (
                    ORDER BY ((s.id + %s) * {_SPREAD}) %% {_MODULUS}, s.id
                ) AS n
                FROM {subscriber} s
                WHERE {condition}
            ) x
            ORDER BY x.id
            ON CONFLICT (campaign_id, subscriber_id) DO NOTHING
            """,  # noqa: S608 - table names come from model metadata, values are parameters
            [
                campaign.pk,
                size,
                Delivery.Status.PENDING,
                Delivery.Status.HELD,
                size,
                variants,
                now,
                now,
                campaign.pk,
                *params,
            ],
        )
        return cursor.rowcount


# --- phases -------------------------------------------------------------------------


def _move(test: AbTest, *, frm: str, to: str, **fields: Any) -> bool:
    """A conditional UPDATE of the phase: only one caller wins each step."""
    changed = AbTest.objects.filter(pk=test.pk, phase=frm).update(phase=to, **fields)
    test.refresh_from_db()
    return bool(changed)


def _test_rows_open(campaign_id: int) -> bool:
    return Delivery.objects.filter(
        campaign_id=campaign_id,
        variant__isnull=False,
        status__in=(Delivery.Status.PENDING, Delivery.Status.CLAIMED),
    ).exists()


def advance(*, now: datetime | None = None) -> list[int]:
    """Move every running campaign's A/B test on as far as it can go now
    (beat's tick). Returns the ids of the campaigns whose winner went out."""
    now = now or timezone.now()
    released = []
    # Drafts, scheduled and paused campaigns' tests wait; cancelled ones never move.
    tests = (
        AbTest.objects.exclude(phase=AbTest.Phase.DONE)
        .filter(campaign__status__in=(Campaign.Status.RUNNING, Campaign.Status.FINISHED))
        .select_related("campaign")
    )
    for test in tests:
        campaign = test.campaign
        if campaign.status == Campaign.Status.FINISHED:
            # Nothing is held once it finished (held rows keep it running).
            _move(test, frm=test.phase, to=AbTest.Phase.DONE)
            continue
        if test.phase == AbTest.Phase.TESTING:
            if campaign.status != Campaign.Status.RUNNING or _test_rows_open(campaign.pk):
                continue
            _move(test, frm=AbTest.Phase.TESTING, to=AbTest.Phase.WAITING, waiting_since=now)
        if test.phase == AbTest.Phase.WAITING:
            due = test.waiting_since is not None and now >= test.waiting_since + timedelta(
                minutes=test.wait_minutes
            )
            if test.winner is None and due and test.metric != AbTest.Metric.MANUAL:
                winner = _leader(test)
                AbTest.objects.filter(pk=test.pk, winner__isnull=True).update(
                    winner=winner, chosen_by=test.metric
                )
                test.refresh_from_db()
            if test.winner is not None:
                _move(
                    test, frm=AbTest.Phase.WAITING, to=AbTest.Phase.SENDING_WINNER, decided_at=now
                )
        if test.phase == AbTest.Phase.SENDING_WINNER and _release(test):
            released.append(campaign.pk)
    return released


def _release(test: AbTest) -> bool:
    """Make the held rows sendable, a batch at a time; dispatch if any were."""
    released = 0
    last_id = 0
    while True:
        batch = list(
            Delivery.objects.filter(
                campaign_id=test.campaign_id, status=Delivery.Status.HELD, id__gt=last_id
            )
            .order_by("id")
            .values_list("id", flat=True)[:RELEASE_BATCH]
        )
        if not batch:
            break
        released += Delivery.objects.filter(id__in=batch, status=Delivery.Status.HELD).update(
            status=Delivery.Status.PENDING, updated_at=timezone.now()
        )
        last_id = batch[-1]
    if released:
        jobs.dispatch_campaign(test.campaign_id)
    return bool(released)


def choose_winner(*, campaign: Campaign, variant: int, by: str = "manual") -> AbTest:
    """A person's pick: with the ``manual`` metric, or overriding the
    automatic pick while the test waits. The next tick sends it."""
    test = test_of(campaign)
    if test is None:
        raise AbTestError("this campaign has no A/B test")
    if not 0 <= variant < test.variants.count():
        raise ValidationError({"variant": f"There is no variant {variant}."})
    if test.phase not in (AbTest.Phase.TESTING, AbTest.Phase.WAITING):
        raise AbTestError(f"the winner is already {'chosen' if test.winner is not None else 'out'}")
    AbTest.objects.filter(
        pk=test.pk, phase__in=(AbTest.Phase.TESTING, AbTest.Phase.WAITING)
    ).update(winner=variant, chosen_by=by)
    test.refresh_from_db()
    advance()
    test.refresh_from_db()
    return test


# --- figures ------------------------------------------------------------------------


@dataclass(frozen=True)
class VariantFigures:
    index: int
    label: str
    sent: int
    opened: int
    clicked: int

    @property
    def open_rate(self) -> float | None:
        return self.opened / self.sent if self.sent else None

    @property
    def click_rate(self) -> float | None:
        return self.clicked / self.sent if self.sent else None


def _label(test: AbTest, variant: AbVariant) -> str:
    letter = "ABCD"[variant.index]
    shown = variant.subject or variant.from_name or _snippet(variant.html)
    return f"{letter}: {shown}"


def _snippet(html: str) -> str:
    return collapse_whitespace(html_to_text(html))[:60] or "(body)"


def variant_figures(test: AbTest) -> list[VariantFigures]:
    """Each variant's test recipients: messages sent, and people who opened or
    clicked (the rest of the audience is not counted here). Two queries."""
    sent = dict(
        Delivery.objects.filter(
            campaign_id=test.campaign_id, variant__isnull=False, status=Delivery.Status.SENT
        )
        .order_by()
        .values("variant")
        .annotate(n=Count("id"))
        .values_list("variant", "n")
    )
    engaged = _engaged_by_variant(test.campaign_id)
    return [
        VariantFigures(
            index=variant.index,
            label=_label(test, variant),
            sent=sent.get(variant.index, 0),
            opened=engaged.get(variant.index, (0, 0))[0],
            clicked=engaged.get(variant.index, (0, 0))[1],
        )
        for variant in test.variants.all()
    ]


def _engaged_by_variant(campaign_id: int) -> dict[int, tuple[int, int]]:
    engagement = Engagement._meta.db_table
    delivery = Delivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT d.variant,
                   SUM(CASE WHEN e.opens > 0 THEN 1 ELSE 0 END),
                   SUM(CASE WHEN e.clicks > 0 THEN 1 ELSE 0 END)
            FROM {engagement} e
            JOIN {delivery} d ON d.campaign_id = e.campaign_id AND d.subscriber_id = e.subscriber_id
            WHERE e.campaign_id = %s AND d.variant IS NOT NULL
            GROUP BY d.variant
            """,  # noqa: S608 - table names come from model metadata
            [campaign_id],
        )
        return {variant: (int(o or 0), int(c or 0)) for variant, o, c in cursor.fetchall()}


def _leader(test: AbTest) -> int:
    """The variant with the best rate by the test's metric (ties: the first)."""
    figures = variant_figures(test)

    def rate(row: VariantFigures) -> float:
        value = row.open_rate if test.metric == AbTest.Metric.OPENS else row.click_rate
        return value or 0.0

    return max(figures, key=lambda row: (rate(row), -row.index)).index


def margin(test: AbTest, figures: list[VariantFigures]) -> float | None:
    """The winner's lead over the runner-up, in percentage points of the
    metric's rate (opens for a manual pick)."""
    if test.winner is None or len(figures) < 2:
        return None
    by_clicks = test.metric == AbTest.Metric.CLICKS

    def rate(row: VariantFigures) -> float:
        return (row.click_rate if by_clicks else row.open_rate) or 0.0

    winner = next((row for row in figures if row.index == test.winner), None)
    if winner is None:
        return None
    others = [rate(row) for row in figures if row.index != test.winner]
    return 100 * (rate(winner) - max(others))
