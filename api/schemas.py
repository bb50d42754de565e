"""Request and response bodies of API v1. Passwords and ESP credentials appear only
in inputs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError as DjangoValidationError
from ninja import Field, Schema
from pydantic import field_validator
from pydantic_core import PydanticCustomError

from campaigns import abtest, schedule
from campaigns.models import Campaign
from campaigns.selectors import CampaignStats, campaign_stats
from delivery import dkim
from delivery.domains import (
    DEFAULT_SELECTOR,
    CheckStatus,
    DnsCheck,
    DnsRecord,
    KeyKind,
    RecordKey,
    bounce_domain_for,
    check_dns,
    dns_records,
)
from delivery.limit_selectors import effective_daily_limit
from delivery.models import SendingDomain, SmtpServer
from subscribers.models import MailingList, Segment, Subscriber


class ErrorItem(Schema):
    field: str
    message: str
    line: int | None = None


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


# --- Lists ------------------------------------------------------------------
class ListIn(Schema):
    name: str
    optin: MailingList.OptIn = MailingList.OptIn.SINGLE
    description: str = ""
    public: bool = Field(
        default=False, description="Subscribers may join it from their preference page."
    )
    confirmation_subject: str = Field(
        default="", description="Double opt-in email subject (Jinja); empty: Postino's."
    )
    confirmation_html: str = Field(
        default="",
        description="Double opt-in email body (Jinja HTML, must contain {{ confirm_url }}); "
        "empty: Postino's.",
    )


class ListOut(Schema):
    id: int
    name: str
    optin: str
    description: str
    public: bool
    confirmation_subject: str
    confirmation_html: str
    created_at: datetime


class SubscriberCounts(Schema):
    confirmed: int
    unconfirmed: int
    unsubscribed: int


class ListWithCountsOut(ListOut):
    subscribers: SubscriberCounts

    @staticmethod
    def resolve_subscribers(obj: MailingList) -> dict[str, int]:
        # Annotated by subscribers.selectors.lists_with_counts().
        return {
            "confirmed": getattr(obj, "confirmed_count", 0),
            "unconfirmed": getattr(obj, "unconfirmed_count", 0),
            "unsubscribed": getattr(obj, "unsubscribed_count", 0),
        }


class ListCollection(Schema):
    items: list[ListWithCountsOut]


class ListPatch(Schema):
    """Only the fields present are changed."""

    name: str = ""
    optin: MailingList.OptIn = MailingList.OptIn.SINGLE
    description: str = ""
    public: bool = False
    confirmation_subject: str = ""
    confirmation_html: str = ""


# --- Segments ---------------------------------------------------------------


class SegmentConditions(Schema):
    """A segment's conditions; checked by subscribers.segments.definition, whose
    messages name each condition by its place ("conditions.2.1.value")."""

    match: str = Field(default="all", description='"all": every condition; "any": at least one.')
    conditions: list[dict[str, Any]] = Field(
        description='Each {"field", "op", "value"}, or a nested {"match", "conditions"}. '
        "Fields: email, domain, name, attributes.<key>, list, status, subscribed_at, "
        "created_at, received, opened, clicked. Ops: eq, neq, contains, not_contains, in, "
        "not_in, gt, lt, set (received, opened, clicked: in_last_days, not_in_last_days; "
        "opened and clicked count a person's, not a mail proxy's or a scanner's). list, status "
        'and subscribed_at conditions may carry "list" and "status" to narrow which '
        "subscriptions count; dates take an ISO date or a number of days ago."
    )


class SegmentIn(SegmentConditions):
    name: str
    description: str = ""


class SegmentPatch(Schema):
    """Only the fields present are changed; match and conditions go together."""

    name: str = ""
    description: str = ""
    match: str = "all"
    conditions: list[dict[str, Any]] = []


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    match: str
    conditions: list[dict[str, Any]]
    last_count: int | None = Field(description="The last count taken; null: not counted yet.")
    counted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_match(obj: Segment) -> str:
        return str(obj.definition.get("match", "all"))

    @staticmethod
    def resolve_conditions(obj: Segment) -> list[dict[str, Any]]:
        return list(obj.definition.get("conditions", []))


class SegmentCollection(Schema):
    items: list[SegmentOut]


class CountOut(Schema):
    count: int


# --- Blocklist --------------------------------------------------------------


class BlocklistIn(Schema):
    entries: list[str] = Field(
        description="Addresses, domains (every address at one) or patterns with * "
        '("*.example.org": its subdomains, "info@*": that mailbox at every domain).'
    )
    note: str = ""


class BlocklistEntryOut(Schema):
    id: int
    kind: str = Field(description="address, domain or pattern")
    value: str
    note: str
    created_at: datetime


class BlocklistAdded(Schema):
    created: list[BlocklistEntryOut]
    existing: list[str] = Field(description="Entries that were on the blocklist already.")


class BlocklistPage(Schema):
    items: list[BlocklistEntryOut]
    next_after: int | None = Field(description="Pass as ``after`` for the next page.")


# --- Subscribers ------------------------------------------------------------
class SubscriberIn(Schema):
    email: str
    name: str = ""
    attributes: dict[str, Any] = {}
    lists: list[int] = Field(default=[], description="Mailing list ids to subscribe to.")
    preconfirm: bool = Field(
        default=False, description="Confirm double opt-in lists at once (you vouch for consent)."
    )


class SubscriptionOut(Schema):
    list: int
    status: str


class SubscriberOut(Schema):
    id: int
    email: str
    name: str
    attributes: dict[str, Any]
    status: str
    created_at: datetime
    subscriptions: list[SubscriptionOut]

    @staticmethod
    def resolve_subscriptions(obj: Subscriber) -> list[dict[str, Any]]:
        # .all() reads the prefetch cache when the selector prefetched it.
        return [{"list": s.mailing_list_id, "status": s.status} for s in obj.subscriptions.all()]


class ResendIn(Schema):
    lists: list[int] | None = Field(
        default=None, description="Only these lists; null: every unconfirmed subscription."
    )


class ResendOut(Schema):
    lists: list[int] = Field(description="The lists whose confirmation email was queued.")


class SubscriberPatch(Schema):
    """Only the fields present are changed."""

    email: str = ""
    name: str = ""
    attributes: dict[str, Any] = {}
    status: Subscriber.Status = Subscriber.Status.ENABLED
    lists: list[int] = Field(
        default=[],
        description="All the list ids the subscriber should be on: new ones are subscribed "
        "(double opt-in lists wait for confirmation unless preconfirm), lists left out are "
        "unsubscribed (the subscription and its history stay).",
    )
    preconfirm: bool = Field(
        default=False, description="With lists: confirm newly joined double opt-in lists at once."
    )


class SubscriberPage(Schema):
    items: list[SubscriberOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page; null at end.")


# --- SMTP servers -----------------------------------------------------------
class SmtpServerIn(Schema):
    name: str
    host: str
    port: int = 587
    security: SmtpServer.Security = SmtpServer.Security.STARTTLS
    username: str = Field(default="", description="Empty means no AUTH.")
    password: str = ""
    max_connections: int = Field(default=4, description="Open connections across all workers.")
    messages_per_second: float = 50.0
    messages_per_hour: int | None = Field(
        default=None, description="Per UTC clock hour; null: no hourly limit."
    )
    messages_per_day: int | None = Field(
        default=None, description="Per UTC calendar day; null: no daily limit."
    )
    warmup_start_per_day: int | None = Field(
        default=None, description="Daily limit on the warm-up's first day; null: no warm-up."
    )
    warmup_growth_factor: float = Field(
        default=1.5, description="Each day allows this many times the day before (1 to 10)."
    )
    warmup_started_on: date | None = Field(
        default=None, description="The warm-up's first day (UTC); default today when it has one."
    )


class EspServerIn(Schema):
    name: str
    esp: str = Field(
        description="django-anymail's name for the ESP: postmark, sendgrid, amazon_ses…"
    )
    credentials: dict[str, Any] = Field(
        description="anymail's settings for the ESP, by their lower-case names "
        '(Postmark: {"server_token": "…"}); stored encrypted, never returned.'
    )
    max_connections: int = Field(default=4, description="API calls in flight across all workers.")
    messages_per_second: float = 50.0
    messages_per_hour: int | None = Field(
        default=None, description="Per UTC clock hour; null: no hourly limit."
    )
    messages_per_day: int | None = Field(
        default=None, description="Per UTC calendar day; null: no daily limit."
    )
    warmup_start_per_day: int | None = Field(
        default=None, description="Daily limit on the warm-up's first day; null: no warm-up."
    )
    warmup_growth_factor: float = Field(
        default=1.5, description="Each day allows this many times the day before (1 to 10)."
    )
    warmup_started_on: date | None = Field(
        default=None, description="The warm-up's first day (UTC); default today when it has one."
    )


class SmtpServerOut(Schema):
    """A sending server of either kind; ``host`` to ``has_password`` are SMTP's."""

    id: int
    name: str
    kind: SmtpServer.Kind
    esp: str = Field(description="The ESP's anymail name; empty for an SMTP server.")
    has_credentials: bool = Field(description="ESP credentials are stored (never returned).")
    host: str
    port: int
    security: str
    username: str
    has_password: bool
    max_connections: int
    messages_per_second: float
    messages_per_hour: int | None
    messages_per_day: int | None
    warmup_start_per_day: int | None
    warmup_growth_factor: float
    warmup_started_on: date | None
    effective_daily_limit: int | None = Field(
        description="Read-only: today's (UTC) daily limit after the warm-up; null: none."
    )
    created_at: datetime

    @staticmethod
    def resolve_has_password(obj: SmtpServer) -> bool:
        return bool(obj.password_encrypted)

    @staticmethod
    def resolve_has_credentials(obj: SmtpServer) -> bool:
        return bool(obj.esp_credentials_encrypted)

    @staticmethod
    def resolve_effective_daily_limit(obj: SmtpServer) -> int | None:
        # Computed from the row, as the sender does: no query per server.
        return effective_daily_limit(obj)


class SmtpServerCollection(Schema):
    items: list[SmtpServerOut]


# --- Domain limits ----------------------------------------------------------
class DomainLimitIn(Schema):
    domain: str = Field(description="Recipient domain; stored lower-case, in IDNA form.")
    messages_per_minute: int = Field(description="Across all servers and workers; at least 1.")


class DomainLimitOut(Schema):
    id: int
    domain: str
    messages_per_minute: int
    updated_at: datetime


class DomainLimitCollection(Schema):
    items: list[DomainLimitOut]


# --- Campaigns --------------------------------------------------------------
class CampaignServerRef(Schema):
    id: int = Field(description="SMTP server id.")
    weight: int = Field(default=1, description="Share of the traffic, at least 1.")


class AbVariantIn(Schema):
    subject: str = Field(default="", description="This variant's subject (Jinja2).")
    from_name: str = Field(default="", description="This variant's from name.")
    html: str = Field(default="", description="This variant's body (Jinja2 HTML).")


class AbTestIn(Schema):
    variants: list[AbVariantIn] = Field(
        description="Two to four variants, each changing the same one thing."
    )
    test_percent: int = Field(default=20, description="Share of the audience the variants go to.")
    wait_minutes: int = Field(
        default=60, description="How long after the variants are sent the winner is picked."
    )
    metric: Literal["opens", "clicks", "manual"] = "opens"


class AbVariantOut(Schema):
    index: int
    subject: str
    from_name: str
    html: str
    sent: int = Field(description="Messages of this variant sent (its share of the test).")
    opened: int = Field(description="People who opened it.")
    clicked: int = Field(description="People who clicked in it.")


class AbTestOut(Schema):
    phase: Literal["testing", "waiting", "sending_winner", "done"]
    winner: int | None = Field(description="The winning variant's index, once chosen.")
    chosen_by: str = Field(description="opens, clicks or manual; empty before a pick.")
    test_percent: int
    wait_minutes: int
    metric: str
    margin: float | None = Field(
        description="The winner's lead over the runner-up, in percentage points of the metric."
    )
    variants: list[AbVariantOut]


class AbWinnerIn(Schema):
    variant: int = Field(description="The index of the variant that wins.")


class CampaignIn(Schema):
    name: str
    subject: str
    from_email: str
    html: str
    text: str = ""
    reply_to: str = ""
    layout: int | None = Field(default=None, description="Layout id; null: no layout.")
    lists: list[int] = []
    segments: list[int] = Field(
        default=[], description="Segment ids: their matches receive it too (beside the lists)."
    )
    excluded_segments: list[int] = Field(
        default=[], description="Segment ids whose matches never receive it."
    )
    smtp_server: int | None = None
    smtp_weight: int = Field(default=1, description="The main server's share of the traffic.")
    extra_smtp_servers: list[CampaignServerRef] = Field(
        default=[], description="More servers sharing the traffic, each with a weight."
    )
    max_error_rate: float | None = Field(
        default=None, description="Pause above this fraction of failures (0 to 1); null: default."
    )
    max_errors: int | None = Field(
        default=None, description="Pause after this many failures in a row; null: default."
    )
    track_opens: bool | None = Field(
        default=None, description="An open pixel; null: the TRACK_OPENS default."
    )
    track_clicks: bool | None = Field(
        default=None, description="Links through signed redirects; null: the TRACK_CLICKS default."
    )
    tracking_privacy: bool = Field(
        default=False, description="Count opens and clicks without naming who."
    )
    # --- Editing: preheader, editor mode, Markdown source, tags, archive ---
    preheader: str = Field(default="", description="The line inboxes show after the subject.")
    editor: Literal["rich", "markdown", "html"] = Field(
        default="html",
        description="How the body is written; markdown: html is made from source, html ignored.",
    )
    source: str = Field(default="", description="The Markdown body, in markdown mode.")
    tags: list[str] = Field(default=[], description="Tag names; new ones are made.")
    public_archive: bool = Field(
        default=False, description="Once sent, shown in the public web archive."
    )
    ab_test: AbTestIn | None = Field(
        default=None, description="Send variants to a test share first, then the winner."
    )


class CampaignPatch(Schema):
    """Only the fields present are changed; only draft and scheduled campaigns."""

    name: str = ""
    subject: str = ""
    from_email: str = ""
    html: str = ""
    text: str = ""
    reply_to: str = ""
    layout: int | None = Field(default=None, description="Layout id; null: no layout.")
    lists: list[int] = []
    segments: list[int] = []
    excluded_segments: list[int] = []
    smtp_server: int | None = None
    smtp_weight: int = 1
    extra_smtp_servers: list[CampaignServerRef] = []
    max_error_rate: float | None = Field(
        default=None, description="Pause above this fraction of failures (0 to 1); null: default."
    )
    max_errors: int | None = Field(
        default=None, description="Pause after this many failures in a row; null: default."
    )
    track_opens: bool = True
    track_clicks: bool = True
    tracking_privacy: bool = False
    # --- Editing: preheader, editor mode, Markdown source, tags, archive ---
    preheader: str = Field(default="", description="The line inboxes show after the subject.")
    editor: Literal["rich", "markdown", "html"] = Field(
        default="html",
        description="How the body is written; markdown: html is made from source, html ignored.",
    )
    source: str = Field(default="", description="The Markdown body, in markdown mode.")
    tags: list[str] = Field(default=[], description="Tag names; new ones are made.")
    public_archive: bool = Field(
        default=False, description="Once sent, shown in the public web archive."
    )


class CampaignOut(Schema):
    id: int
    name: str
    subject: str
    from_email: str
    status: str
    status_reason: str
    lists: list[int]
    segments: list[int]
    excluded_segments: list[int]
    layout: int | None = Field(description="Layout id; null: no layout.")
    archived_at: datetime | None = Field(
        description="When it was archived (finished and cancelled campaigns); null: not archived."
    )
    smtp_server: int | None
    smtp_weight: int
    extra_smtp_servers: list[CampaignServerRef]
    max_error_rate: float | None
    max_errors: int | None
    track_opens: bool
    track_clicks: bool
    tracking_privacy: bool
    # --- Editing ---
    preheader: str
    editor: str
    source: str = Field(description="The Markdown body in markdown mode; empty otherwise.")
    public_archive: bool
    created_at: datetime
    scheduled_at: datetime | None
    schedule_timezone: str = Field(
        description="The IANA zone the schedule was chosen in; empty: the site's TIME_ZONE."
    )
    started_at: datetime | None
    finished_at: datetime | None

    tags: list[str] = Field(description="Tag names.")

    @staticmethod
    def resolve_tags(obj: Campaign) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_lists(obj: Campaign) -> list[int]:
        return [mailing_list.pk for mailing_list in obj.lists.all()]

    @staticmethod
    def resolve_segments(obj: Campaign) -> list[int]:
        return sorted(segment.pk for segment in obj.segments.all())

    @staticmethod
    def resolve_excluded_segments(obj: Campaign) -> list[int]:
        return sorted(segment.pk for segment in obj.excluded_segments.all())

    @staticmethod
    def resolve_smtp_server(obj: Campaign) -> int | None:
        return obj.smtp_server_id

    @staticmethod
    def resolve_layout(obj: Campaign) -> int | None:
        return obj.template_id

    @staticmethod
    def resolve_extra_smtp_servers(obj: Campaign) -> list[dict[str, int]]:
        # .all() reads the prefetch cache when the selector prefetched it.
        links = sorted(obj.server_links.all(), key=lambda link: link.pk)
        return [{"id": link.smtp_server_id, "weight": link.weight} for link in links]


class CampaignStatsOut(Schema):
    total: int
    pending: int
    sent: int
    failed: int


class CampaignDetailOut(CampaignOut):
    stats: CampaignStatsOut
    ab_test: AbTestOut | None = Field(description="Its A/B test, if it has one.")

    @staticmethod
    def resolve_ab_test(obj: Campaign) -> dict[str, Any] | None:
        return ab_test_payload(obj)

    @staticmethod
    def resolve_stats(obj: Campaign) -> CampaignStats:
        # One aggregate query over the ledger; only the detail view pays for it.
        return campaign_stats(obj)


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_before: int | None = Field(
        description="Pass as ?before= for the next (older) page; null at end."
    )


def ab_test_payload(campaign: Campaign) -> dict[str, Any] | None:
    """A campaign's A/B test as AbTestOut reads it (three queries), or None."""
    test = abtest.test_of(campaign)
    if test is None:
        return None
    figures = {row.index: row for row in abtest.variant_figures(test)}
    return {
        "phase": test.phase,
        "winner": test.winner,
        "chosen_by": test.chosen_by,
        "test_percent": test.test_percent,
        "wait_minutes": test.wait_minutes,
        "metric": test.metric,
        "margin": abtest.margin(test, list(figures.values())),
        "variants": [
            {
                "index": variant.index,
                "subject": variant.subject,
                "from_name": variant.from_name,
                "html": variant.html,
                "sent": figures[variant.index].sent,
                "opened": figures[variant.index].opened,
                "clicked": figures[variant.index].clicked,
            }
            for variant in test.variants.all()
        ],
    }


class StartIn(Schema):
    scheduled_at: datetime | None = Field(
        default=None,
        description="Start later instead of now: ISO 8601 with an offset "
        "(2030-01-01T09:00:00+01:00), or a local time without one and `timezone`.",
    )
    timezone: str = Field(
        default="",
        description="The IANA zone of the schedule (Europe/Berlin): a scheduled_at without an "
        "offset is read in it, and the campaign shows its time there. Empty: the site's "
        "TIME_ZONE, and scheduled_at needs an offset. A local time skipped or repeated by a "
        "daylight-saving change is refused.",
    )

    @field_validator("timezone")
    @classmethod
    def known_zone(cls, value: str) -> str:
        try:
            return schedule.clean_zone_name(value)
        except DjangoValidationError as exc:
            raise PydanticCustomError("time_zone", " ".join(exc.messages)) from exc


class RescheduleIn(StartIn):
    scheduled_at: datetime = Field(
        description="The new start: ISO 8601 with an offset, or a local time and `timezone`."
    )


class TestSendIn(Schema):
    emails: list[str]


class TestSendOut(Schema):
    recipients: list[str]


# --- Sending domains ----------------------------------------------------------
class SendingDomainIn(Schema):
    domain: str = Field(
        description="The domain of your From addresses; stored lower-case, in IDNA form."
    )
    dkim: list[KeyKind] = Field(
        default=["rsa", "ed25519"],
        description="The DKIM keys to generate: rsa (RSA-2048, understood everywhere), "
        "ed25519 (RFC 8463), or both; mail is signed with every key. At least one.",
        json_schema_extra={"minItems": 1},
    )
    selector: str = Field(
        default=DEFAULT_SELECTOR,
        description="RSA signs with this selector, Ed25519 with the same plus “-ed”.",
    )
    return_path_domain: str = Field(
        default="", description="Bounce (Return-Path) domain; empty: the server-wide one."
    )

    @field_validator("dkim")
    @classmethod
    def at_least_one_key(cls, kinds: list[KeyKind]) -> list[KeyKind]:
        if not kinds:
            # A domain without keys signs nothing, and the API cannot add a key later.
            raise PydanticCustomError(
                "dkim_empty", "Choose at least one key type: rsa, ed25519 or both."
            )
        return list(dict.fromkeys(kinds))


class DkimKeyOut(Schema):
    kind: KeyKind
    algorithm: str = Field(description="The a= of its signatures: rsa-sha256, ed25519-sha256.")
    selector: str = Field(description="The s= of its signatures.")


class DnsRecordOut(Schema):
    key: RecordKey = Field(description="Which record this is; the same key in ``checks``.")
    name: str
    type: str = Field(description="TXT or MX.")
    value: str
    txt_strings: list[str] = Field(
        description="A TXT value as the ≤255-character strings one record holds "
        "(a zone file quotes each); the value alone for MX."
    )
    purpose: str
    advice: bool = Field(description="Recommended, but not needed for signatures to verify.")


class DnsCheckOut(Schema):
    key: RecordKey = Field(description="The ``key`` of the record checked.")
    name: str
    type: str
    status: CheckStatus = Field(
        description="ok; missing (no record yet); wrong (a different value is "
        "published: see message); error (the lookup itself failed)."
    )
    found: str = Field(description="What is published at the name; empty if nothing.")
    message: str

    @staticmethod
    def resolve_key(obj: DnsCheck) -> RecordKey:
        return obj.record.key

    @staticmethod
    def resolve_name(obj: DnsCheck) -> str:
        return obj.record.name

    @staticmethod
    def resolve_type(obj: DnsCheck) -> str:
        return obj.record.type


class SendingDomainOut(Schema):
    """A sending domain and the DNS records to publish; private keys never leave."""

    id: int
    domain: str
    selector: str
    dkim: list[DkimKeyOut] = Field(description="The keys mail from this domain is signed with.")
    return_path_domain: str
    bounce_domain: str = Field(description="Where bounces go: return_path_domain or the default.")
    records: list[DnsRecordOut] = Field(description="The DNS records to publish.")
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_selector(obj: SendingDomain) -> str:
        return obj.dkim_selector

    @staticmethod
    def resolve_dkim(obj: SendingDomain) -> list[dict[str, str]]:
        # From the row alone: no key is decrypted to say which ones exist.
        keys = []
        if obj.has_rsa_key:
            keys.append({"kind": "rsa", "algorithm": dkim.RSA, "selector": obj.rsa_selector})
        if obj.has_ed25519_key:
            keys.append(
                {"kind": "ed25519", "algorithm": dkim.ED25519, "selector": obj.ed25519_selector}
            )
        return keys

    @staticmethod
    def resolve_bounce_domain(obj: SendingDomain) -> str:
        return bounce_domain_for(obj)

    @staticmethod
    def resolve_records(obj: SendingDomain) -> list[DnsRecord]:
        return dns_records(obj)


class SendingDomainDetailOut(SendingDomainOut):
    checks: list[DnsCheckOut] = Field(
        description="Each record looked up in DNS just now, in the order of records."
    )

    @staticmethod
    def resolve_checks(obj: SendingDomain) -> list[DnsCheck]:
        # Live lookups (a few seconds at worst): only the single-domain GET pays for them.
        return check_dns(obj)


class SendingDomainCollection(Schema):
    items: list[SendingDomainOut]


class BouncedOut(Schema):
    hard: int
    soft: int


class OpensOut(Schema):
    unique: int = Field(description="People who opened (by a person's open, not a proxy's).")
    total: int = Field(description="Opens by people, repeats included.")
    machine: int = Field(description="Opens by mail proxies and scanners (Apple MPP and the like).")


class LinkClicksOut(Schema):
    url: str
    unique: int
    total: int
    machine: int


class ClicksOut(OpensOut):
    links: list[LinkClicksOut]


class ReportDayOut(Schema):
    day: str
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int


class ReportPointOut(Schema):
    start: datetime = Field(description="Start of the hour or day.")
    opens: int
    clicks: int
    machine_opens: int
    machine_clicks: int
    unique_opens: int = Field(description="People whose first open fell in it.")
    unique_clicks: int = Field(description="People whose first click fell in it.")


class ReportTimelineOut(Schema):
    step: Literal["hour", "day"] = Field(
        description="By the hour while opens and clicks span under 72 hours, then by the day."
    )
    points: list[ReportPointOut]


class ReportDomainOut(Schema):
    domain: str
    sent: int
    delivered: int = Field(description="Sent, less those that bounced.")
    failed: int = Field(description="Refused for good while sending.")
    bounced: BouncedOut
    unique_opens: int
    unique_clicks: int


class ReportReasonOut(Schema):
    reason: str = Field(description="The reason's code; empty when none was given.")
    label: str
    count: int


class CampaignReportOut(Schema):
    sent: int
    delivered: int = Field(description="Sent, less those that bounced.")
    bounced: BouncedOut
    opens: OpensOut
    clicks: ClicksOut
    failed: int = Field(description="Refused for good while sending.")
    unsubscribed: int = Field(description="People who unsubscribed through its links.")
    unsubscribe_reasons: list[ReportReasonOut]
    complaints: int
    days: list[ReportDayOut] = Field(description="Opens and clicks per day (UTC).")
    timeline: ReportTimelineOut = Field(description="Opens and clicks over time, as charted.")
    domains: list[ReportDomainOut] = Field(
        description="The recipient domains sent to most: deliveries, bounces, opens, clicks."
    )


# --- Transactional ------------------------------------------------------------------
class TxSubscriberRecipient(Schema):
    subscriber_id: int


class TxAttachmentIn(Schema):
    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field("application/octet-stream", pattern=r"^[\w.+-]+/[\w.+-]+$")
    content: str = Field(description="The file, base64-encoded.")


class TxSendIn(Schema):
    to: list[str | TxSubscriberRecipient] = Field(
        description='Addresses, or {"subscriber_id": n}; one message each.'
    )
    template: int | None = Field(None, description="A transactional template's id.")
    subject: str = Field("", description="Without a template: the subject (Jinja2).")
    html: str = Field("", description="Without a template: the HTML body (Jinja2).")
    text: str = Field("", description="Without a template: the text body; empty: from the HTML.")
    data: dict[str, Any] = Field(default_factory=dict, description="The template's variables.")
    from_email: str = ""
    reply_to: str = ""
    headers: dict[str, str] = Field(default_factory=dict)
    attachments: list[TxAttachmentIn] = Field(default_factory=list)
    category: str = Field("", description="e.g. password-reset; created on first use.")
    idempotency_key: str = Field("", max_length=255)
    channel: int | str | None = Field(None, description="A channel's id or name.")


class TxResult(Schema):
    id: str
    email: str
    status: str
    reason: str = ""


class TxSendOut(Schema):
    messages: list[TxResult]
    duplicate: bool = False


class TxMessageOut(Schema):
    id: str
    email: str
    status: str
    attempts: int
    smtp_code: int | None
    smtp_reply: str
    message_id: str
    template: int | None
    category: str | None
    channel: str | None
    queued_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    bounced_at: datetime | None
    updated_at: datetime

    @staticmethod
    def resolve_id(obj: Any) -> str:
        return str(obj.public_id)

    @staticmethod
    def resolve_status(obj: Any) -> str:
        # Being handed to the server is still "queued" to the application.
        return "queued" if obj.status == "sending" else str(obj.status)

    @staticmethod
    def resolve_template(obj: Any) -> int | None:
        return obj.template_id

    @staticmethod
    def resolve_category(obj: Any) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_channel(obj: Any) -> str | None:
        return obj.smtp_server.name if obj.smtp_server_id else None

    @staticmethod
    def resolve_queued_at(obj: Any) -> datetime:
        return obj.created_at

    @staticmethod
    def resolve_next_attempt_at(obj: Any) -> datetime | None:
        return obj.next_attempt_at if obj.status in ("queued", "deferred") else None


class TxTemplateIn(Schema):
    name: str
    subject: str
    html: str
    text: str = ""
    description: str = ""
    sample_data: dict[str, Any] = Field(
        default_factory=dict, description="What the preview renders with; saving checks it."
    )
    from_email: str = ""
    reply_to: str = ""
    category: str | None = Field(None, description="A category's name; created on first use.")
    track_opens: bool = False
    track_clicks: bool = False


class TxTemplatePatch(Schema):
    name: str | None = None
    subject: str | None = None
    html: str | None = None
    text: str | None = None
    description: str | None = None
    sample_data: dict[str, Any] | None = None
    from_email: str | None = None
    reply_to: str | None = None
    category: str | None = None
    track_opens: bool | None = None
    track_clicks: bool | None = None


class TxTemplateOut(Schema):
    id: int
    name: str
    description: str
    subject: str
    html: str
    text: str
    sample_data: dict[str, Any]
    from_email: str
    reply_to: str
    category: str | None
    track_opens: bool
    track_clicks: bool
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_category(obj: Any) -> str | None:
        return obj.category.name if obj.category_id else None


class TxTemplateCollection(Schema):
    items: list[TxTemplateOut]
