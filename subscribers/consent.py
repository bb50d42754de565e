"""The consent ledger: who agreed to what, or withdrew it, when and how.

Every change to a subscription, or to what we hold about a person, appends a
``ConsentEvent``. Callers say how the change came about with an ``Origin``:
the way in (form, link, API, admin, import, email, system), who acted, and for
public pages the visitor's IP, user agent and the version of the consent text
they were shown. Rows are only ever added.

One kind of entry is kept elsewhere: the subscriptions an import creates
carry their consent record themselves (``Subscription.import_run``: the
file, who ran it, when), which spares a million-row import a million ledger
rows. ``history`` reads both as one ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from postino.actors import signed_in
from subscribers.models import REASON_TEXT_MAX_LENGTH, ConsentEvent, Subscription

USER_AGENT_LENGTH = 300


@dataclass(frozen=True)
class Origin:
    via: str
    actor: Any = None
    ip: str | None = None
    user_agent: str = ""
    consent_text_version: str = ""
    note: str = ""
    # The campaign whose link this came through, if any.
    campaign_id: int | None = None

    def noting(self, note: str) -> Origin:
        return replace(self, note=note)

    def through_campaign(self, campaign_id: int | None) -> Origin:
        return replace(self, campaign_id=campaign_id)

    @property
    def actor_id(self) -> int | None:
        user = signed_in(self.actor)
        return user.pk if user is not None else None

    @property
    def actor_name(self) -> str:
        user = signed_in(self.actor)
        return str(user.get_username())[:150] if user is not None else ""


SYSTEM = Origin(via=ConsentEvent.Via.SYSTEM)


@dataclass(frozen=True)
class GivenReason:
    """Why a person says they leave, as they gave it on an unsubscribe page:
    a ``ConsentEvent.Reason`` code (blank: none chosen) and their own words."""

    code: str = ""
    text: str = ""

    def __post_init__(self) -> None:
        # Forms check these for the person; this guards every other caller,
        # since a report groups by the code.
        if self.code and self.code not in ConsentEvent.Reason.values:
            raise ValueError(f"unknown unsubscribe reason {self.code!r}")
        if len(self.text) > REASON_TEXT_MAX_LENGTH:
            raise ValueError(f"a reason's text is at most {REASON_TEXT_MAX_LENGTH} characters")


NO_REASON = GivenReason()


def client_ip(request: HttpRequest) -> str | None:
    """The visitor's address (see ``client_ip_of``)."""
    return client_ip_of(request.META)


def client_ip_of(meta: Mapping[str, Any]) -> str | None:
    """The visitor's address from a request's WSGI environ: the peer the web
    server saw, or, behind our own reverse proxy (``TRUST_X_FORWARDED_FOR``),
    the address that proxy added last to X-Forwarded-For; earlier entries are
    the client's to invent."""
    if settings.POSTINO["TRUST_X_FORWARDED_FOR"]:
        forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:45]
    return meta.get("REMOTE_ADDR") or None


def from_request(request: HttpRequest, via: str, *, consent_text_version: str = "") -> Origin:
    user = getattr(request, "user", None)
    return Origin(
        via=via,
        actor=signed_in(user),
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH],
        consent_text_version=consent_text_version,
    )


def admin(request: HttpRequest) -> Origin:
    return from_request(request, ConsentEvent.Via.ADMIN)


def api(actor: Any) -> Origin:
    return Origin(via=ConsentEvent.Via.API, actor=actor)


def event(
    *,
    subscriber_id: int,
    kind: str,
    origin: Origin,
    mailing_list_id: int | None = None,
    status: str = "",
    note: str = "",
    given: GivenReason = NO_REASON,
) -> ConsentEvent:
    return ConsentEvent(
        subscriber_id=subscriber_id,
        mailing_list_id=mailing_list_id,
        kind=kind,
        via=origin.via,
        status=status,
        ip=origin.ip,
        user_agent=origin.user_agent,
        consent_text_version=origin.consent_text_version,
        actor_id=origin.actor_id,
        actor_name=origin.actor_name,
        campaign_id=origin.campaign_id,
        note=(note or origin.note)[:300],
        reason=given.code,
        reason_text=given.text,
        created_at=timezone.now(),
    )


def record(**kwargs: Any) -> None:
    event(**kwargs).save(force_insert=True)


def record_all(events: Iterable[ConsentEvent]) -> None:
    ConsentEvent.objects.bulk_create(list(events))


def _imported(subscriber_id: int) -> list[ConsentEvent]:
    """The ledger entries an import keeps on the subscriptions it created
    (``Subscription.import_run``), as the events they stand for."""
    subscriptions = (
        Subscription.objects.filter(subscriber_id=subscriber_id, import_run__isnull=False)
        .select_related("mailing_list", "import_run")
        .order_by("id")
    )
    events = []
    for subscription in subscriptions:
        import_run = subscription.import_run
        events.append(
            ConsentEvent(
                subscriber_id=subscriber_id,
                mailing_list=subscription.mailing_list,
                kind=ConsentEvent.Kind.IMPORTED,
                via=ConsentEvent.Via.IMPORT,
                status=import_run.subscription_status if import_run else "",
                actor_id=import_run.created_by_id if import_run else None,
                actor_name=import_run.created_by_name if import_run else "",
                import_run_id=subscription.import_run_id,
                note=f"file {import_run.original_name}"[:300] if import_run else "",
                created_at=subscription.created_at,
            )
        )
    return events


def history(subscriber_id: int, *, limit: int | None = None) -> list[ConsentEvent]:
    """A subscriber's consent ledger, newest first, with list names: the rows
    written, and the consent of the subscriptions an import created (kept on
    them). At most ``limit`` entries; three queries."""
    rows = (
        ConsentEvent.objects.filter(subscriber_id=subscriber_id)
        .select_related("mailing_list")
        .order_by("-created_at", "-id")
    )
    written = list(rows[:limit] if limit is not None else rows)
    merged = sorted(
        [*written, *_imported(subscriber_id)],
        key=lambda event: (event.created_at, event.kind != ConsentEvent.Kind.IMPORTED),
        reverse=True,
    )
    return merged[:limit] if limit is not None else merged
