"""Reads behind the Transactional pages: the message log, figures, headers.

The ledger (``TxMessage``) grows by millions of rows, so every read here is
bounded by an index: the log pages by keyset on (created_at, id), never
OFFSET, and filters that narrow by address, template or time use the
model's indexes; figures group one template's or one week's rows in a single
query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from django.db.models import BinaryField, Count, Q, QuerySet
from django.db.models.functions import Length, Substr, TruncDate
from django.utils import timezone

from bounces.models import BounceEvent
from transactional.models import Category, RelayCredential, TxMessage, TxPayload, TxTemplate

Status = TxMessage.Status
# Handed to the receiving server: accepted (sent), or bounced (refused with a
# 5xx there, or reported later by a DSN). Rates are over these, as a
# campaign's are over the messages attempted.
ATTEMPTED = (Status.SENT, Status.BOUNCED)
# How much of a payload the message page reads: headers are rarely longer,
# and a message can be megabytes of attachments that the page must not load.
HEADERS_READ = 8 * 1024
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def day_start(days_back: int = 0) -> datetime:
    """Midnight in the site's time zone, ``days_back`` days ago."""
    today = timezone.localdate()
    return timezone.make_aware(
        datetime.combine(today - timedelta(days=days_back), datetime.min.time())
    )


# --- the landing page -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    label: str
    today: int
    week: int


def volume_by_status() -> list[StatusCount]:
    """Messages accepted today and over the last 7 days (today included), per status."""
    today = day_start()
    rows = {
        row["status"]: row
        for row in TxMessage.objects.filter(created_at__gte=day_start(6))
        .order_by()
        .values("status")
        .annotate(week=Count("id"), today=Count("id", filter=Q(created_at__gte=today)))
    }
    return [
        StatusCount(
            status=value,
            label=label,
            today=rows.get(value, {}).get("today", 0),
            week=rows.get(value, {}).get("week", 0),
        )
        for value, label in Status.choices
    ]


# --- templates ------------------------------------------------------------------


def templates_with_volume(days: int = 30) -> QuerySet[TxTemplate]:
    """Every template with ``sent_recently``: messages attempted in ``days`` days."""
    since = day_start(days - 1)
    return (
        TxTemplate.objects.select_related("category")
        .defer("html", "text", "sample_data")
        .annotate(
            sent_recently=Count(
                "messages",
                filter=Q(messages__created_at__gte=since, messages__status__in=ATTEMPTED),
            )
        )
        .order_by("name")
    )


@dataclass(frozen=True, slots=True)
class TemplateFigures:
    days: int
    dates: list[date]
    # Per status, one count per date (zeros included).
    per_day: dict[str, list[int]]
    sent: int
    bounced: int
    failed: int
    refused: int
    waiting: int
    # Messages a person opened or clicked; None where the template does not
    # track them (and never did in the period: a switch turned off keeps its count).
    opened: int | None = None
    clicked: int | None = None

    def _of_sent(self, count: int | None) -> float | None:
        return None if not self.sent or count is None else 100 * count / self.sent

    @property
    def bounce_rate(self) -> float | None:
        """Bounced over attempted, in percent; None before anything was sent."""
        return self._of_sent(self.bounced)

    @property
    def open_rate(self) -> float | None:
        return self._of_sent(self.opened)

    @property
    def click_rate(self) -> float | None:
        return self._of_sent(self.clicked)


def template_figures(template: TxTemplate, days: int = 30) -> TemplateFigures:
    """One template's last ``days`` days (today included), in one grouped query."""
    start = day_start(days - 1)
    dates = [start.date() + timedelta(days=i) for i in range(days)]
    index = {day: i for i, day in enumerate(dates)}
    per_day: dict[str, list[int]] = {value: [0] * days for value in Status.values}
    rows = (
        TxMessage.objects.filter(template=template, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .order_by()
        .values_list("day", "status")
        # Count of a column counts the rows where it is set.
        .annotate(n=Count("id"), opened=Count("opened_at"), clicked=Count("clicked_at"))
    )
    opened = clicked = 0
    for day, status, n, opens, clicks in rows:
        if day in index and status in per_day:
            per_day[status][index[day]] = n
        opened += opens
        clicked += clicks
    total = {status: sum(values) for status, values in per_day.items()}
    return TemplateFigures(
        days=days,
        dates=dates,
        per_day=per_day,
        sent=sum(total[s] for s in ATTEMPTED),
        bounced=total[Status.BOUNCED],
        failed=total[Status.FAILED],
        refused=total[Status.REFUSED],
        waiting=sum(total[s] for s in TxMessage.OPEN_STATUSES),
        opened=opened if opened or template.track_opens else None,
        clicked=clicked if clicked or template.track_clicks else None,
    )


# --- categories and credentials -------------------------------------------------


def categories_with_usage() -> QuerySet[Category]:
    return Category.objects.annotate(template_count=Count("templates")).order_by("name")


def credential_list() -> QuerySet[RelayCredential]:
    """Active ones first, then revoked, each by name."""
    return RelayCredential.objects.select_related("channel", "category").order_by(
        "revoked_at", "name"
    )


# --- the message log ------------------------------------------------------------


def message_log(
    *,
    recipient: str = "",
    exact: bool = False,
    status: str = "",
    template: TxTemplate | None = None,
    category: Category | None = None,
    source: str = "",
    since: date | None = None,
    until: date | None = None,
) -> QuerySet[TxMessage]:
    """The log's rows, filtered; ``message_page`` orders and pages them.

    Addresses are stored as accepted (lower-cased by the send path), so a
    search lower-cases too and stays on the (email, created_at) index: an
    exact address seeks it, a prefix is a range scan of it (the database's
    collation must be C for LIKE to use the index, as ours is).
    """
    qs = TxMessage.objects.select_related("template", "category")
    needle = recipient.strip().lower()
    if needle:
        qs = qs.filter(email=needle) if exact else qs.filter(email__startswith=needle)
    if status:
        qs = qs.filter(status=status)
    if template is not None:
        qs = qs.filter(template=template)
    if category is not None:
        qs = qs.filter(category=category)
    if source:
        qs = qs.filter(source=source)
    if since is not None:
        qs = qs.filter(created_at__gte=_local_midnight(since))
    if until is not None:
        qs = qs.filter(created_at__lt=_local_midnight(until + timedelta(days=1)))
    return qs


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


@dataclass(frozen=True, slots=True)
class MessagePage:
    items: list[TxMessage]
    # Pass as ``after`` for the next (older) page; empty on the last one.
    next_cursor: str = ""


def encode_cursor(message: TxMessage) -> str:
    # Whole microseconds since the epoch, by integer arithmetic: a float
    # timestamp could round and make the next page skip or repeat a row.
    return f"{(message.created_at - _EPOCH) // _MICROSECOND}-{message.pk}"


def decode_cursor(raw: str) -> tuple[datetime, int] | None:
    """The (created_at, id) a cursor names; None for junk (the first page)."""
    micros, _, pk = raw.partition("-")
    if not (micros.isdigit() and pk.isdigit()):
        return None
    try:
        return _EPOCH + int(micros) * _MICROSECOND, int(pk)
    except OverflowError:
        return None


def message_page(qs: QuerySet[TxMessage], *, after: str = "", size: int = 50) -> MessagePage:
    """One page, newest first, by keyset on (created_at, id)."""
    cursor = decode_cursor(after) if after else None
    if cursor is not None:
        moment, pk = cursor
        # created_at <= moment is what the index range scan can use; the OR
        # only sorts out the rows of that one instant.
        qs = qs.filter(created_at__lte=moment).filter(Q(created_at__lt=moment) | Q(pk__lt=pk))
    rows = list(qs.order_by("-created_at", "-id")[: size + 1])
    items = rows[:size]
    return MessagePage(
        items=items, next_cursor=encode_cursor(items[-1]) if len(rows) > size else ""
    )


@dataclass(frozen=True, slots=True)
class MessageDetail:
    message: TxMessage
    bounces: list[BounceEvent] = field(default_factory=list)
    headers: str = ""
    # The header block went on past what was read.
    headers_cut: bool = False
    payload_size: int | None = None


def message_detail(public_id: UUID) -> MessageDetail | None:
    message = (
        TxMessage.objects.select_related(
            "template", "category", "credential", "channel", "smtp_server", "subscriber"
        )
        .filter(public_id=public_id)
        .first()
    )
    if message is None:
        return None
    bounces = list(
        BounceEvent.objects.filter(tx_message=message).defer("raw").order_by("-received_at", "-id")
    )
    headers, cut, size = _payload_headers(message.payload_id)
    return MessageDetail(
        message=message, bounces=bounces, headers=headers, headers_cut=cut, payload_size=size
    )


def _payload_headers(payload_id: int | None) -> tuple[str, bool, int | None]:
    """The header block of a payload, read from its first bytes only."""
    if payload_id is None:
        return "", False, None
    row = (
        TxPayload.objects.filter(pk=payload_id)
        .annotate(
            head=Substr("raw", 1, HEADERS_READ, output_field=BinaryField()), size=Length("raw")
        )
        .values_list("head", "size")
        .first()
    )
    if row is None:
        return "", False, None
    head, size = row
    headers, unfinished = split_headers(bytes(head or b""))
    # No blank line in what was read means cut off only if there was more.
    return headers, unfinished and (size or 0) > HEADERS_READ, size


def split_headers(head: bytes) -> tuple[str, bool]:
    """The header lines of a message's first bytes, and whether they run on
    past them (no blank line ends them)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        end = head.find(separator)
        if end != -1:
            head = head[:end]
            cut = False
            break
    else:
        cut = True
    # Headers are ASCII by the RFC; anything else is shown, not trusted.
    return head.decode("utf-8", errors="replace").replace("\r\n", "\n"), cut
