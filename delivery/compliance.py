"""Reads for the operations page's compliance panel: are we within the rules
Gmail and Yahoo set for bulk senders?

* complaint and hard-bounce rates over the last 24 hours and 7 days, the
  complaint rate against the providers' thresholds (0.1 % warn, 0.3 % critical);
* whether each sending domain passes DMARC: an aligned DKIM signature, an
  aligned SPF pass and a DMARC record, looked up live in DNS the way the
  sending-domain page does (``delivery.domains.check_dns``);
* whether the last few campaigns carry one-click unsubscribe (RFC 8058): a
  ``List-Unsubscribe`` https URL and ``List-Unsubscribe-Post``, both covered by
  the DKIM signature's ``h=`` tag.

The panel is its own fragment, polled far less often than the live part, and
everything slow is cached in Redis, so no poll counts a week of sends or waits
on DNS for every domain:

* a week of sends is an index range of millions of rows: the two sent counts
  are cached for SENT_CACHE_SECONDS. Complaints and bounces are a small
  fraction of that and are counted on every poll (the ``received_at`` index),
  so a new complaint shows on the next poll; the denominator lags by at most
  a minute out of a day;
* each domain's DNS verdict is cached for DNS_VERDICT_SECONDS, keyed on the
  row's ``updated_at`` (a new key is re-checked at once), and one poll looks up
  at most DNS_CHECKS_PER_POLL domains, in parallel; the others say "not
  checked yet" until a later poll reaches them;
* each campaign's one-click verdict is cached for ONE_CLICK_VERDICT_SECONDS,
  keyed on the campaign's and its From domain's ``updated_at``.

Redis being away costs the caching, not the panel.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any, Literal, TypeVar

import redis
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from bounces.models import BounceEvent
from bounces.selectors import REFUSED_WHILE_SENDING, BounceSummary
from campaigns.models import Campaign, CampaignServer
from delivery import dkim, domains
from delivery.domains import Alignment, AlignmentPart, normalize_domain
from delivery.models import Delivery, SendingDomain, SmtpServer
from delivery.pipeline.prepare import MessageFactory, message_bytes
from postino.redis import as_text, redis_client

log = logging.getLogger(__name__)

# Gmail's and Yahoo's bulk-sender rules: keep the spam-complaint rate under
# 0.1 %, never reach 0.3 %.
COMPLAINT_WARNING = 0.001
COMPLAINT_CRITICAL = 0.003
SENT_CACHE_SECONDS = 60
DNS_VERDICT_SECONDS = 300
DNS_CHECKS_PER_POLL = 4
MAX_SENDING_DOMAINS = 100
ONE_CLICK_CAMPAIGNS = 5
ONE_CLICK_VERDICT_SECONDS = 600
ONE_CLICK_POST = "List-Unsubscribe=One-Click"
CACHE_PREFIX = "postino:ops:compliance"

Level = Literal["ok", "warning", "critical"]
Verdict = Literal["ok", "fail", "unknown"]
T = TypeVar("T")


def _cached(key: str, seconds: int, compute: Callable[[], T]) -> T:
    """``compute()`` (a JSON-able value), kept in Redis for ``seconds``."""
    try:
        raw = redis_client().get(key)
    except redis.RedisError:
        return compute()
    if raw is not None:
        cached: T = json.loads(as_text(raw))
        return cached
    value = compute()
    with contextlib.suppress(redis.RedisError):
        redis_client().set(key, json.dumps(value), ex=seconds)
    return value


# --- complaint and hard-bounce rates ------------------------------------------------


@dataclass(frozen=True, slots=True)
class WindowRates:
    """Reports received in the window over the messages sent in it.

    The rates are BounceSummary's, the one definition the campaign page and
    the auto-pause use: complaints over sent, hard bounces over attempted
    (sent, plus messages the server refused while we sent them).
    """

    label: str  # "24 hours"
    summary: BounceSummary

    @property
    def complaint_level(self) -> Level:
        rate = self.summary.complaint_rate
        if rate >= COMPLAINT_CRITICAL:
            return "critical"
        return "warning" if rate >= COMPLAINT_WARNING else "ok"


WINDOWS = (("24 hours", timedelta(hours=24)), ("7 days", timedelta(days=7)))


def _sent_counts(now: datetime) -> dict[str, int]:
    """Messages sent in each window (1 query over the sent_at index)."""
    longest = max(span for _, span in WINDOWS)
    found = Delivery.objects.filter(
        status=Delivery.Status.SENT, sent_at__gte=now - longest
    ).aggregate(
        **{
            f"w{i}": Count("id", filter=Q(sent_at__gte=now - span))
            for i, (_, span) in enumerate(WINDOWS)
        }
    )
    return {key: int(value or 0) for key, value in found.items()}


def sending_rates(*, now: datetime | None = None) -> list[WindowRates]:
    """Complaint and hard-bounce rates over each window (1 query; 1 more once
    a minute for the sent counts)."""
    now = now or timezone.now()
    sent = _cached(f"{CACHE_PREFIX}:sent", SENT_CACHE_SECONDS, lambda: _sent_counts(now))
    kinds = BounceEvent.Kind
    counts: dict[str, Any] = {}
    for i, (_, span) in enumerate(WINDOWS):
        since = Q(received_at__gte=now - span)
        counts[f"hard{i}"] = Count("id", filter=since & Q(kind=kinds.HARD))
        counts[f"soft{i}"] = Count("id", filter=since & Q(kind=kinds.SOFT))
        counts[f"complaints{i}"] = Count("id", filter=since & Q(kind=kinds.COMPLAINT))
        counts[f"refused{i}"] = Count("id", filter=since & REFUSED_WHILE_SENDING)
    longest = max(span for _, span in WINDOWS)
    found = BounceEvent.objects.filter(
        received_at__gte=now - longest, kind__in=(kinds.HARD, kinds.SOFT, kinds.COMPLAINT)
    ).aggregate(**counts)
    return [
        WindowRates(
            label=label,
            summary=BounceSummary(
                sent=sent.get(f"w{i}", 0),
                hard=found[f"hard{i}"] or 0,
                soft=found[f"soft{i}"] or 0,
                complaints=found[f"complaints{i}"] or 0,
                refused=found[f"refused{i}"] or 0,
            ),
        )
        for i, (label, _) in enumerate(WINDOWS)
    ]


# --- sending domains: DMARC alignment ------------------------------------------------


@dataclass(frozen=True, slots=True)
class DomainVerdict:
    id: int
    domain: str
    alignment: Alignment | None  # None: not looked up yet (a later poll will)
    checked_at: datetime | None


def _check_domain(sending_domain: SendingDomain) -> dict[str, Any]:
    # Runs in a worker thread: DNS and key parsing only, no database.
    checks = domains.check_dns(sending_domain)
    alignment = domains.check_alignment(sending_domain, checks)
    return {"alignment": asdict(alignment), "checked_at": timezone.now().isoformat()}


def _verdict(sending_domain: SendingDomain, data: dict[str, Any] | None) -> DomainVerdict:
    if data is None:
        return DomainVerdict(sending_domain.pk, sending_domain.domain, None, None)
    parts = data["alignment"]
    alignment = Alignment(
        domain=parts["domain"],
        dkim=AlignmentPart(**parts["dkim"]),
        spf=AlignmentPart(**parts["spf"]),
        dmarc=AlignmentPart(**parts["dmarc"]),
    )
    checked_at = datetime.fromisoformat(data["checked_at"])
    return DomainVerdict(sending_domain.pk, sending_domain.domain, alignment, checked_at)


def _dns_key(sending_domain: SendingDomain) -> str:
    changed = sending_domain.updated_at.isoformat() if sending_domain.updated_at else ""
    return f"{CACHE_PREFIX}:dns:{sending_domain.pk}:{changed}"


def domain_alignment(sending_domains: list[SendingDomain]) -> list[DomainVerdict]:
    """Each domain's cached DNS verdict; up to DNS_CHECKS_PER_POLL missing ones
    looked up now, side by side (no query: the rows are passed in)."""
    keys = [_dns_key(row) for row in sending_domains]
    try:
        cached = redis_client().mget(keys) if keys else []
    except redis.RedisError:
        cached = [None] * len(keys)
    found: dict[int, dict[str, Any]] = {
        row.pk: json.loads(as_text(raw))
        for row, raw in zip(sending_domains, cached, strict=True)
        if raw is not None
    }
    missing = [row for row in sending_domains if row.pk not in found][:DNS_CHECKS_PER_POLL]
    if missing:
        # Each lookup waits on the network (up to DNS_TIMEOUT_SECONDS), so the
        # domains are checked in parallel: one poll waits for the slowest.
        with ThreadPoolExecutor(max_workers=len(missing)) as pool:
            fresh = dict(
                zip((row.pk for row in missing), pool.map(_check_domain, missing), strict=True)
            )
        found.update(fresh)
        with contextlib.suppress(redis.RedisError):
            pipe = redis_client().pipeline(transaction=False)
            for row in missing:
                pipe.set(_dns_key(row), json.dumps(fresh[row.pk]), ex=DNS_VERDICT_SECONDS)
            pipe.execute()
    return [_verdict(row, found.get(row.pk)) for row in sending_domains]


# --- one-click unsubscribe in recent campaigns ---------------------------------------


@dataclass(frozen=True, slots=True)
class OneClickCheck:
    campaign_id: int
    campaign_name: str
    verdict: Verdict  # unknown: we cannot see the final message (an ESP signs it)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _header_values(fields: list[tuple[bytes, bytes]], name: str) -> list[str]:
    wanted = name.lower().encode("ascii")
    return [
        dkim.relaxed_header_value(value).decode("utf-8", "replace")
        for field_name, value in fields
        if field_name.strip().lower() == wanted
    ]


def one_click_problems(message: bytes, from_domain: str, *, signed_here: bool = True) -> list[str]:
    """What keeps ``message`` from offering one-click unsubscribe (RFC 8058);
    empty when nothing does.

    ``signed_here`` False skips the DKIM part, for messages whose final MIME
    (and signature) is made by an ESP.
    """
    fields = dkim.parse_headers(dkim.split_message(message)[0])
    problems = []
    unsubscribe = _header_values(fields, "List-Unsubscribe")
    uris = [uri.strip() for value in unsubscribe for uri in value.split(",")]
    if not unsubscribe:
        problems.append("No List-Unsubscribe header.")
    elif not any(uri.lower().startswith("<https://") for uri in uris):
        problems.append("List-Unsubscribe has no https URL: " + ", ".join(uris))
    post = _header_values(fields, "List-Unsubscribe-Post")
    if not post:
        problems.append(f"No List-Unsubscribe-Post: {ONE_CLICK_POST} header.")
    elif post != [ONE_CLICK_POST]:
        problems.append("List-Unsubscribe-Post is not " + ONE_CLICK_POST + ": " + " | ".join(post))
    if not signed_here:
        return problems
    signatures = [dkim.parse_tag_list(value) for value in _header_values(fields, "DKIM-Signature")]
    if not signatures:
        problems.append(
            f"Not DKIM-signed: {from_domain} has no DKIM key, so nothing covers the headers."
        )
        return problems
    aligned = [
        tags for tags in signatures if domains.aligned(tags.get("d", ""), from_domain, strict=False)
    ]
    if not aligned:
        signers = ", ".join(sorted({tags.get("d", "?") for tags in signatures}))
        problems.append(f"Signed by {signers}, not by the From domain {from_domain}.")
        return problems
    needed = {"list-unsubscribe", "list-unsubscribe-post"}
    covering = [
        tags
        for tags in aligned
        if needed <= {h.strip().lower() for h in tags.get("h", "").split(":")}
    ]
    if not covering:
        problems.append("The DKIM signature's h= does not cover List-Unsubscribe and -Post.")
    return problems


def _check_campaign(campaign: Any, sample: Delivery | None) -> OneClickCheck:
    """Build the message for one recipient exactly as the send pipeline does
    (``MessageFactory.prepare``, then ``as_bytes`` for SMTP) and judge it."""
    esp_primary = campaign.smtp_server is not None and campaign.smtp_server.kind == "esp"
    uses_esp = esp_primary or campaign.uses_esp
    uses_smtp = not esp_primary or campaign.uses_smtp
    if sample is None:
        return OneClickCheck(
            campaign.pk, campaign.name, "unknown", notes=["No recipient in its ledger yet."]
        )
    try:
        factory = MessageFactory(campaign)
        prepared = factory.prepare(subscriber=sample.subscriber, delivery_id=sample.pk)
        sent_bytes = factory.as_bytes(prepared)
    except Exception as exc:  # a dashboard must not break on one campaign's template or key
        log.warning("one-click check of campaign %s failed", campaign.pk, exc_info=True)
        return OneClickCheck(
            campaign.pk, campaign.name, "unknown", notes=[f"The message could not be built: {exc}"]
        )
    notes = []
    if uses_smtp:
        problems = one_click_problems(sent_bytes, factory.from_domain)
    else:
        # The ESP gets our headers as parts, not these bytes (EspChannel.wants_bytes).
        unsigned = message_bytes(prepared, [])
        problems = one_click_problems(unsigned, factory.from_domain, signed_here=False)
    if uses_esp:
        notes.append(
            "Sent through an ESP, which builds and signs the message itself: check in its "
            f"settings that it signs as {factory.from_domain} and covers the List-Unsubscribe "
            "headers."
        )
    verdict: Verdict = "fail" if problems else "unknown" if uses_esp else "ok"
    return OneClickCheck(campaign.pk, campaign.name, verdict, problems, notes)


def _one_click_key(campaign: Any, versions: dict[str, str]) -> str:
    domain = parseaddr(campaign.from_email)[1].rpartition("@")[2]
    with contextlib.suppress(ValueError):
        domain = normalize_domain(domain)
    return (
        f"{CACHE_PREFIX}:one-click:{campaign.pk}:{campaign.updated_at.isoformat()}:"
        f"{versions.get(domain, 'none')}"
    )


def one_click_checks(sending_domains: list[SendingDomain]) -> list[OneClickCheck]:
    """The last ONE_CLICK_CAMPAIGNS started campaigns, each checked on one real
    recipient's message (1 query when all are cached; 1 more for the sample
    recipients, plus the key lookup of ``domains.keys_for``, cached per process,
    when some are not)."""
    sample = Delivery.objects.filter(campaign=OuterRef("pk")).order_by("subscriber_id")
    other_channels = CampaignServer.objects.filter(campaign=OuterRef("pk"))
    esp = SmtpServer.Kind.ESP
    campaigns = list(
        Campaign.objects.filter(
            status__in=(Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.FINISHED),
            started_at__isnull=False,
        )
        # The A/B test too: MessageFactory reads it, and reads no more with it here.
        .select_related("template", "smtp_server", "ab_test")
        .annotate(
            sample_id=Subquery(sample.values("id")[:1]),
            uses_esp=Exists(other_channels.filter(smtp_server__kind=esp)),
            uses_smtp=Exists(other_channels.exclude(smtp_server__kind=esp)),
        )
        .order_by("-started_at", "-id")[:ONE_CLICK_CAMPAIGNS]
    )
    versions = {row.domain: row.updated_at.isoformat() for row in sending_domains}
    keys = [_one_click_key(campaign, versions) for campaign in campaigns]
    try:
        cached = redis_client().mget(keys) if keys else []
    except redis.RedisError:
        cached = [None] * len(keys)
    results: dict[int, OneClickCheck] = {}
    for campaign, raw in zip(campaigns, cached, strict=True):
        if raw is not None:
            results[campaign.pk] = OneClickCheck(**json.loads(as_text(raw)))
    missing = [campaign for campaign in campaigns if campaign.pk not in results]
    if missing:
        ids = [campaign.sample_id for campaign in missing if campaign.sample_id]
        samples = {
            row.pk: row for row in Delivery.objects.filter(pk__in=ids).select_related("subscriber")
        }
        try:
            pipe = redis_client().pipeline(transaction=False)
            for campaign, key in zip(campaigns, keys, strict=True):
                if campaign.pk in results:
                    continue
                check = _check_campaign(campaign, samples.get(campaign.sample_id))
                results[campaign.pk] = check
                pipe.set(key, json.dumps(asdict(check)), ex=ONE_CLICK_VERDICT_SECONDS)
            pipe.execute()
        except redis.RedisError:
            for campaign in missing:
                results.setdefault(
                    campaign.pk, _check_campaign(campaign, samples.get(campaign.sample_id))
                )
    return [results[campaign.pk] for campaign in campaigns]


# --- everything at once ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Compliance:
    at: datetime
    rates: list[WindowRates]
    domains: list[DomainVerdict]
    more_domains: bool  # beyond MAX_SENDING_DOMAINS, not shown
    one_click: list[OneClickCheck]

    @property
    def complaint_level(self) -> Level:
        levels = [window.complaint_level for window in self.rates]
        return "critical" if "critical" in levels else "warning" if "warning" in levels else "ok"

    @property
    def domains_status(self) -> str:
        """ok, fail, error (a lookup failed) or pending (some not looked up yet)."""
        statuses = {v.alignment.status if v.alignment else "pending" for v in self.domains}
        for status in ("fail", "error", "pending"):
            if status in statuses:
                return status
        return "ok"

    @property
    def one_click_status(self) -> Verdict:
        verdicts = {check.verdict for check in self.one_click}
        return "fail" if "fail" in verdicts else "unknown" if "unknown" in verdicts else "ok"


def compliance() -> Compliance:
    """The whole panel (4 queries; 2 more now and then, see the module docstring)."""
    now = timezone.now()
    rows = list(SendingDomain.objects.order_by("domain")[: MAX_SENDING_DOMAINS + 1])
    shown = rows[:MAX_SENDING_DOMAINS]
    return Compliance(
        at=now,
        rates=sending_rates(now=now),
        domains=domain_alignment(shown),
        more_domains=len(rows) > MAX_SENDING_DOMAINS,
        one_click=one_click_checks(shown),
    )
