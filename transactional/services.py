"""Accepting transactional mail: the API's ``send`` and the relay's ``accept_relay``.

Both end the same way: in one transaction, one ``TxMessage`` per recipient
with its finished MIME message (``TxPayload``), refused recipients recorded
as ``refused`` with the reason, the idempotency record holding the answer;
after the commit, the transactional worker is woken (``transactional.wake``).
Everything that can be wrong with a send (a template that does not render
with this data, an unknown channel, a bad header) is found here, while the
application waits for the answer, never later in the worker.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.errors import HeaderParseError
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses, parseaddr
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from bounces.models import Suppression
from campaigns.personalize import subscriber_links
from campaigns.rendering import TemplateProblem, TemplateValidationError
from delivery.mime import (
    Attachment,
    build_message,
    format_address,
    format_address_header,
    new_message_id,
)
from delivery.models import SmtpServer
from postino.prepared import prepared_cursor
from subscribers.blocklist.rules import blocked_sql
from subscribers.models import Subscriber, Subscription
from subscribers.privacy import erased_sql
from tracking.links import track_tx_message
from transactional import credentials, store, wake
from transactional.models import (
    Category,
    IdempotencyRecord,
    RelayCredential,
    TxMessage,
    TxPayload,
    TxTemplate,
)
from transactional.rendering import CompiledTemplate, compile_parts, compiled_for

SUPPRESSION_REASONS = {
    "hard_bounce": "suppressed: the address bounced hard",
    "soft_bounces": "suppressed: the address bounced repeatedly",
    "complaint": "suppressed: the recipient reported our mail as spam",
    "manual": "suppressed: an admin suppressed the address",
}
UNSUBSCRIBED = "unsubscribed: the recipient left every list (the category is not exempt)"
BLOCKLISTED = "blocklisted: the address is on the blocklist"
ERASED = "erased: the recipient had their data erased"
NOT_A_SUBSCRIBER = "marketing mail goes to subscribers only: add the address to a list first"
# Headers a send may not set: ours, or ones that would contradict the envelope.
RESERVED_HEADERS = frozenset(
    {
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version",
        "content-type", "content-transfer-encoding", "reply-to", "return-path",
        "list-unsubscribe", "list-unsubscribe-post", "dkim-signature", "sender",
    }
)  # fmt: skip
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # RFC 5322 field name: printable, no colon
# Relay messages: headers that steer Postino, removed before sending.
IDEMPOTENCY_HEADER = "Idempotency-Key"
CATEGORY_HEADER = "X-Postino-Category"


class TxError(Exception):
    """A send that cannot be accepted; ``problems`` name each field (``to.1``)."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))
        self.problems = list(problems)


class IdempotencyConflict(Exception):
    """The key was used, within the window, for a different request."""


class RelayRefused(Exception):
    """What the relay answers instead of 250: an SMTP code, status and text."""

    def __init__(self, code: int, status: str, message: str) -> None:
        super().__init__(f"{code} {status} {message}")
        self.code = code
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Recipient:
    email: str = ""
    subscriber_id: int | None = None


@dataclass(frozen=True)
class SendRequest:
    to: Sequence[Recipient]
    template_id: int | None = None
    subject: str = ""
    html: str = ""
    text: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    from_email: str = ""
    reply_to: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: Sequence[Attachment] = ()
    category: str = ""
    channel: int | str | None = None
    idempotency_key: str = ""

    def fingerprint(self) -> str:
        body = {
            "to": [[r.email, r.subscriber_id] for r in self.to],
            "template": self.template_id,
            "subject": self.subject,
            "html": self.html,
            "text": self.text,
            "data": self.data,
            "from": self.from_email,
            "reply_to": self.reply_to,
            "headers": dict(self.headers),
            "attachments": [
                [a.filename, a.content_type, hashlib.sha256(a.content).hexdigest()]
                for a in self.attachments
            ],
            "category": self.category,
            "channel": self.channel,
        }
        encoded = json.dumps(body, sort_keys=True, default=str).encode()
        return hashlib.sha256(encoded).hexdigest()


@dataclass(frozen=True)
class RecipientResult:
    id: str
    email: str
    status: str
    reason: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "email": self.email, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class SendAnswer:
    messages: list[RecipientResult]
    # True: the idempotency key was seen in the window; nothing new was queued.
    duplicate: bool = False


@dataclass(frozen=True)
class RelayAccepted:
    ids: list[str]
    duplicate: bool = False


# --- who may receive -------------------------------------------------------------


@dataclass(frozen=True)
class AddressFacts:
    """What decides whether an address may receive mail, and its subscriber."""

    email: str
    suppression: str | None = None
    blocked: bool = False
    erased: bool = False
    # Unsubscribed from every list it was on: a marketing unsubscribe.
    left: bool = False
    subscriber: Subscriber | None = None

    def refusal(self, category: Category | None) -> str | None:
        """Why this address may not receive mail of ``category``, or None."""
        marketing = category is not None and category.marketing
        exempt = category is not None and category.exempt_from_unsubscribes and not marketing
        status = self.subscriber.status if self.subscriber is not None else None
        if self.suppression:
            return SUPPRESSION_REASONS.get(self.suppression, f"suppressed: {self.suppression}")
        if self.blocked or status == Subscriber.Status.BLOCKLISTED:
            return BLOCKLISTED
        if self.erased:
            return ERASED
        if self.left and not exempt:
            return UNSUBSCRIBED
        if marketing and status is None:
            return NOT_A_SUBSCRIBER
        return None


def refusal_for(emails: Iterable[str], category: Category | None) -> dict[str, str]:
    """Why each refused address may not receive mail of ``category``; the
    addresses missing from the answer may. One query for the whole list."""
    refused = {}
    for email, facts in address_facts(emails).items():
        if reason := facts.refusal(category):
            refused[email] = reason
    return refused


def address_facts(emails: Iterable[str]) -> dict[str, AddressFacts]:
    """Per address (lower-cased): its active suppression's reason, whether it
    is blocklisted or erased, its subscriber, and whether that subscriber
    unsubscribed and is on no list. One query for the whole list."""
    wanted = sorted({email.lower() for email in emails})
    if not wanted:
        return {}
    quote = connection.ops.quote_name
    suppressions = quote(Suppression._meta.db_table)
    subscribers = quote(Subscriber._meta.db_table)
    subscriptions = quote(Subscription._meta.db_table)
    blocked, blocked_params = blocked_sql("w.email")
    erased, erased_params = erased_sql("w.email")
    values = ", ".join(["(%s)"] * len(wanted))
    unsubscribed = Subscription.Status.UNSUBSCRIBED
    # Our own table names and fragments; every value is a parameter.
    sql = (
        f"WITH w(email) AS (VALUES {values}) "  # noqa: S608
        "SELECT w.email,"
        f" (SELECT sp.reason FROM {suppressions} sp"
        "   WHERE sp.email = w.email AND sp.lifted_at IS NULL LIMIT 1),"
        f" {blocked}, {erased}, s.id, s.status, s.name, s.attributes,"
        f" (s.id IS NOT NULL"
        f"  AND EXISTS (SELECT 1 FROM {subscriptions} u"
        "    WHERE u.subscriber_id = s.id AND u.status = %s)"
        f"  AND NOT EXISTS (SELECT 1 FROM {subscriptions} o"
        "    WHERE o.subscriber_id = s.id AND o.status <> %s))"
        f" FROM w LEFT JOIN {subscribers} s ON s.email = w.email"
    )
    params = [*wanted, *blocked_params, *erased_params, unsubscribed, unsubscribed]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    out = {}
    for email, suppression, is_blocked, is_erased, pk, status, name, attributes, left in rows:
        subscriber = None
        if pk is not None:
            if isinstance(attributes, str):  # a JSON column comes back as text
                attributes = json.loads(attributes)
            subscriber = Subscriber(
                pk=pk, email=email, status=status, name=name, attributes=attributes or {}
            )
        out[email] = AddressFacts(
            email, suppression, bool(is_blocked), bool(is_erased), bool(left), subscriber
        )
    return out


# --- the API's send ----------------------------------------------------------------


def send(request: SendRequest, *, scope: str) -> SendAnswer:
    """Accept a send: one message per recipient, queued or refused.

    ``scope`` owns the idempotency key ("user:<id>"). Raises ``TxError`` for
    a send that cannot be accepted at all, ``IdempotencyConflict`` for a key
    reused with another request.
    """
    messages = _prepare_send(request)
    results = [
        RecipientResult(
            str(m.public_id),
            m.email,
            m.status,
            m.smtp_reply if m.status == TxMessage.Status.REFUSED else "",
        )
        for m in messages
    ]
    queued = any(m.status == TxMessage.Status.QUEUED for m in messages)
    if not request.idempotency_key:
        # One statement (transactional.store): atomic without a transaction.
        store.store(messages)
        if queued:
            wake.after_commit()  # now, unless the caller holds a transaction
        return SendAnswer(results)
    with transaction.atomic():
        record, earlier = _claim_key(scope, request.idempotency_key, request.fingerprint())
        if earlier is not None:
            return SendAnswer(
                [RecipientResult(**item) for item in earlier.get("messages", [])],
                duplicate=True,
            )
        store.store(messages)
        assert record is not None
        record.response = {"messages": [result.as_dict() for result in results]}
        record.save(update_fields=["response"])
        if queued:
            wake.after_commit()
    return SendAnswer(results)


def _prepare_send(request: SendRequest) -> list[store.NewMessage]:
    """The send checked and rendered: a row per recipient, ready to store."""
    problems: list[tuple[str, str]] = []
    limit = int(settings.POSTINO["TX_MAX_RECIPIENTS"])
    if not request.to:
        problems.append(("to", "give at least one recipient"))
    elif len(request.to) > limit:
        problems.append(("to", f"at most {limit} recipients per send (TX_MAX_RECIPIENTS)"))
    template: TxTemplate | None = None
    if request.template_id is not None:
        template = _template_for_send(request.template_id)
        if template is None:
            problems.append(("template", f"no transactional template has id {request.template_id}"))
    elif not request.subject.strip() or not request.html.strip():
        problems.append(("template", 'give a template id, or "subject" and "html"'))
    headers = _check_headers(request.headers, problems)
    if request.category and (rule := check_category_name(request.category)):
        problems.append(("category", rule))
    channel = _channel(request.channel, problems)
    from_email = request.from_email or (template.from_email if template else "")
    from_email = from_email or settings.DEFAULT_FROM_EMAIL
    from_name, from_address = parseaddr(from_email)
    if not _is_address(from_address):
        problems.append(("from_email", f"{from_email!r} is not an address"))
    reply_to = request.reply_to or (template.reply_to if template else "")
    size = sum(len(a.content) for a in request.attachments)
    if size > int(settings.POSTINO["TX_MAX_MESSAGE_BYTES"]):
        problems.append(("attachments", f"{size} bytes in all, over TX_MAX_MESSAGE_BYTES"))
    emails = _recipients(request.to, problems)
    compiled = None
    if not problems:
        try:
            compiled = (
                compiled_for(template)
                if template is not None
                else _compiled_inline(request.subject, request.html, request.text)
            )
        except TemplateValidationError as exc:
            problems.extend(_template_problems(exc.problems))
    if problems or compiled is None:
        raise TxError(problems)
    category = category_named(request.category) if request.category else None
    if category is None and template is not None:
        category = template.category
    facts = address_facts(emails)
    from_domain = from_address.rpartition("@")[2].lower()
    from_header = format_address(from_name, from_address)
    messages = []
    for email in emails:
        known = facts.get(email) or AddressFacts(email)
        subscriber = known.subscriber
        message = store.NewMessage(
            source=TxMessage.Source.API,
            email=email,
            subscriber_id=subscriber.pk if subscriber is not None else None,
            template_id=template.pk if template is not None else None,
            category_id=category.pk if category is not None else None,
            channel_id=channel.pk if channel is not None else None,
            from_email=from_address,
        )
        reason = known.refusal(category)
        if reason:
            message.status = TxMessage.Status.REFUSED
            message.smtp_reply = reason
        else:
            message.raw = _render(
                compiled,
                request,
                email=email,
                subscriber=subscriber,
                from_header=from_header,
                reply_to=reply_to,
                headers=headers,
                category=category,
                message=message,
                from_domain=from_domain,
                template=template,
            )
        messages.append(message)
    return messages


# What sending reads of a template, in the model's order (as ``from_db``
# takes them); the other fields are left deferred.
_TEMPLATE_FIELDS = tuple(
    field.attname
    for field in TxTemplate._meta.concrete_fields
    if field.attname
    in {"id", "subject", "html", "text", "from_email", "reply_to", "track_opens",
        "track_clicks", "updated_at", "category_id"}
)  # fmt: skip


@functools.cache
def _template_sql() -> str:
    """The template query's text, built once per process, not on every send."""
    quote = connection.ops.quote_name
    columns = ", ".join(f"t.{quote(name)}" for name in _TEMPLATE_FIELDS)
    return (
        f"SELECT {columns}, c.name, c.marketing, c.exempt_from_unsubscribes"  # noqa: S608
        f" FROM {quote(TxTemplate._meta.db_table)} t"
        f" LEFT JOIN {quote(Category._meta.db_table)} c ON c.id = t.category_id"
        " WHERE t.id = %s"
    )


def _template_for_send(pk: int) -> TxTemplate | None:
    """The template and its category, as sending needs them, in one prepared
    query: on the API's hot path the ORM's compiling of the same query cost
    more than the query."""
    with prepared_cursor() as cursor:
        cursor.execute(_template_sql(), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = len(_TEMPLATE_FIELDS)
    template = TxTemplate.from_db(connection.alias, _TEMPLATE_FIELDS, row[:fields])
    category = None
    if template.category_id is not None:
        name, marketing, exempt = row[fields:]
        category = Category(
            pk=template.category_id,
            name=name,
            marketing=bool(marketing),
            exempt_from_unsubscribes=bool(exempt),
        )
    template.category = category
    return template


def _render(
    compiled: CompiledTemplate,
    request: SendRequest,
    *,
    email: str,
    subscriber: Subscriber | None,
    from_header: str,
    reply_to: str,
    headers: list[tuple[str, str]],
    category: Category | None,
    message: store.NewMessage,
    from_domain: str,
    template: TxTemplate | None,
) -> bytes:
    context_subscriber = None
    links: dict[str, str] = {}
    if subscriber is not None:
        links = subscriber_links(subscriber_id=subscriber.pk, campaign_id=None)
        context_subscriber = {
            "id": subscriber.pk,
            "email": subscriber.email,
            "name": subscriber.name,
            "attributes": subscriber.attributes,
            **links,
        }
    name = subscriber.name if subscriber is not None else ""
    try:
        rendered = compiled.render(
            request.data,
            recipient={"email": email, "name": name},
            subscriber=context_subscriber,
        )
    except TemplateValidationError as exc:
        raise TxError(_template_problems(exc.problems)) from exc
    html, text = rendered.html, rendered.text
    if template is not None and (template.track_opens or template.track_clicks):
        html, text = track_tx_message(
            html_text=html,
            text=text,
            public_id=message.public_id.hex,
            opens=template.track_opens,
            clicks=template.track_clicks,
        )
    extra = list(headers)
    feedback = category.name if category is not None else "transactional"
    extra.append(("Feedback-ID", f"{feedback}:tx:postino"))
    if category is not None:
        extra.append(("X-Postino-Category", category.name))
    message.subject = rendered.subject[:998]
    message.message_id = new_message_id(from_domain or settings.BASE_HOST)
    return build_message(
        from_header=from_header,
        to_header=format_address(name, email),
        subject=rendered.subject,
        html=html,
        text=text,
        message_id=message.message_id,
        reply_to=format_address_header(reply_to) if reply_to else "",
        extra_headers=extra,
        attachments=request.attachments,
    )


@lru_cache(maxsize=256)
def _compiled_inline(subject: str, html: str, text: str) -> CompiledTemplate:
    # An application sends the same inline template over and over: compile once.
    return compile_parts(subject=subject, html=html, text=text)


def _template_problems(problems: Iterable[TemplateProblem]) -> list[tuple[str, str]]:
    out = []
    for problem in problems:
        where = f"line {problem.line}: " if problem.line else ""
        out.append((problem.field, f"{where}{problem.message}"))
    return out


def _is_address(address: str) -> bool:
    try:
        validate_email(address)
    except ValidationError:
        return False
    return True


def _recipients(to: Sequence[Recipient], problems: list[tuple[str, str]]) -> list[str]:
    """Each recipient's address (a subscriber id gives its subscriber's), once, in order."""
    ids = {r.subscriber_id for r in to if r.subscriber_id is not None}
    by_id = dict(Subscriber.objects.filter(pk__in=ids).values_list("pk", "email")) if ids else {}
    out: dict[str, None] = {}
    for index, recipient in enumerate(to):
        if recipient.subscriber_id is not None:
            email = by_id.get(recipient.subscriber_id)
            if email is None:
                problems.append((f"to.{index}", f"no subscriber has id {recipient.subscriber_id}"))
                continue
            email = email.lower()
        else:
            email = recipient.email.strip().lower()
            if not _is_address(email):
                problems.append((f"to.{index}", f"{recipient.email!r} is not an address"))
                continue
        out.setdefault(email)
    return list(out)


def _check_headers(
    headers: Mapping[str, str], problems: list[tuple[str, str]]
) -> list[tuple[str, str]]:
    out = []
    for name, value in headers.items():
        where = f"headers.{name}"
        if not _HEADER_NAME.match(name):
            problems.append((where, "not a header name"))
        elif name.lower() in RESERVED_HEADERS:
            problems.append((where, "set by Postino or by a field of the send; not allowed here"))
        elif "\r" in value or "\n" in value or not str(value).isascii():
            problems.append((where, "one line of ASCII text, please"))
        else:
            out.append((name, str(value)))
    return out


def _channel(value: int | str | None, problems: list[tuple[str, str]]) -> SmtpServer | None:
    if value in (None, ""):
        return None
    query = SmtpServer.objects.filter(pk=value) if isinstance(value, int) else None
    if query is None:
        query = SmtpServer.objects.filter(name=str(value))
    server = query.first()
    if server is None:
        problems.append(("channel", f"no channel named {value!r}"))
    return server


def category_named(name: str) -> Category:
    """The category by name, created (not marketing, not exempt) on first use."""
    slug = name.strip().lower()
    category = Category.objects.filter(name=slug).first()
    if category is not None:
        return category
    try:
        with transaction.atomic():
            return Category.objects.create(name=slug)
    except IntegrityError:
        return Category.objects.get(name=slug)


CATEGORY_NAME_RULE = "Letters, digits, hyphens and underscores only, e.g. password-reset."
# A slug (lower-cased, as names are stored) that fits the column.
_CATEGORY_NAME = re.compile(r"[-a-z0-9_]{1,64}")


def check_category_name(name: str) -> str | None:
    """Why ``name`` cannot name a category, if it cannot (the pages, the API
    and the relay's header all ask this)."""
    return None if _CATEGORY_NAME.fullmatch(name.strip().lower()) else CATEGORY_NAME_RULE


# --- idempotency -------------------------------------------------------------------


def _claim_key(
    scope: str, key: str, fingerprint: str
) -> tuple[IdempotencyRecord | None, dict[str, Any] | None]:
    """(our new record, None), or (None, the earlier answer) for a repeat.

    Inside the caller's transaction: a concurrent request with the same key
    waits on the unique index until this one commits, then sees its answer.
    """
    window = timedelta(hours=int(settings.POSTINO["TX_IDEMPOTENCY_HOURS"]))
    key = key.strip()[:255]
    while True:
        existing = IdempotencyRecord.objects.select_for_update().filter(scope=scope, key=key)
        found = existing.first()
        if found is not None and found.created_at >= timezone.now() - window:
            if found.fingerprint != fingerprint:
                raise IdempotencyConflict(
                    f"the idempotency key {key!r} was used for a different request"
                )
            return None, found.response
        if found is not None:
            found.delete()  # outside the window: a new request
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint
                )
            return record, None
        except IntegrityError:
            continue  # another request took the key meanwhile: read its answer


def forget_old_messages(*, batch: int = 5000) -> int:
    """Delete messages older than ``TX_RETENTION_DAYS`` (their payloads and
    bounce links with them), a batch per transaction so the log stays writable."""
    cutoff = timezone.now() - timedelta(days=int(settings.POSTINO["TX_RETENTION_DAYS"]))
    deleted = 0
    while True:
        with transaction.atomic():
            ids = list(
                TxMessage.objects.filter(created_at__lt=cutoff)
                .exclude(status__in=TxMessage.OPEN_STATUSES)
                .order_by("created_at")
                .values_list("id", flat=True)[:batch]
            )
            if not ids:
                return deleted
            payloads = set(
                TxMessage.objects.filter(pk__in=ids).values_list("payload_id", flat=True)
            )
            TxMessage.objects.filter(pk__in=ids).delete()
            # A payload shared by several recipients goes with its last one.
            TxPayload.objects.filter(pk__in=payloads - {None}, messages__isnull=True).delete()
            deleted += len(ids)


def forget_old_keys() -> int:
    window = timedelta(hours=int(settings.POSTINO["TX_IDEMPOTENCY_HOURS"]))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - window).delete()
    return deleted


# --- the relay ---------------------------------------------------------------------


def relay_category(credential: RelayCredential, header_value: str | None) -> Category | None:
    """The category a relay message says (``X-Postino-Category``), else the credential's."""
    if header_value and check_category_name(header_value) is None:
        return category_named(header_value)
    return credential.category


def accept_relay(
    *,
    credential: RelayCredential,
    mail_from: str,
    rcpt_tos: list[str],
    raw: bytes,
    recipients_checked: bool = False,
) -> RelayAccepted:
    """Store a message the relay received, durably, before it answers 250.

    The message is sent as written but for our additions: a Message-ID if
    it has none, Bcc removed, our steering headers removed, the sender's own
    DKIM signatures dropped when ``TX_REPLACE_DKIM``.

    ``recipients_checked``: the relay refused at RCPT whoever may not receive
    the credential's category; unless the message names another category,
    that is not asked again (the worker checks suppressions once more).
    """
    # compat32: the raw values, parsed in a fraction of the default policy's
    # time; only the subject is decoded (``_header_text``).
    fields: dict[str, list[str]] = {}
    for name, value in BytesHeaderParser(policy=compat32).parsebytes(raw).raw_items():
        fields.setdefault(name.lower(), []).append(value)
    from_values = [_header_text(v) for v in fields.get("from", [])]
    addresses = [address for _, address in getaddresses(from_values)]
    if not addresses:
        raise RelayRefused(550, "5.6.0", "The message has no From header")
    for address in addresses:
        if not credentials.from_allowed(credential, address):
            raise RelayRefused(550, "5.7.1", f"This login may not send From {address}'s domain")
    key = _header_text(_first(fields, IDEMPOTENCY_HEADER))
    category = relay_category(credential, _header_text(_first(fields, CATEGORY_HEADER)))
    message_id = _header_text(_first(fields, "Message-ID"))
    from_domain = addresses[0].rpartition("@")[2].lower() or settings.BASE_HOST
    drop = {"bcc", IDEMPOTENCY_HEADER.lower(), CATEGORY_HEADER.lower()}
    if settings.POSTINO["TX_REPLACE_DKIM"]:
        drop.add("dkim-signature")
    if category is not None and category.marketing:
        # Ours, per recipient, at send time (transactional.sending).
        drop |= {"list-unsubscribe", "list-unsubscribe-post"}
    added = []
    if not message_id:
        message_id = new_message_id(from_domain)
        added.append(("Message-ID", message_id))
    if category is not None:
        added.append((CATEGORY_HEADER, category.name))
    body = rewrite_headers(raw, drop=drop, add=added)
    subject = _header_text(_first(fields, "Subject"), decode=True)[:998]
    emails = list(dict.fromkeys(rcpt.strip().lower() for rcpt in rcpt_tos))
    same_category = category == credential.category
    refused = {} if recipients_checked and same_category else refusal_for(emails, category)
    fingerprint = hashlib.sha256(json.dumps([mail_from, emails]).encode() + b"\0" + raw).hexdigest()
    messages = [
        store.NewMessage(
            source=TxMessage.Source.RELAY,
            email=email,
            category_id=category.pk if category is not None else None,
            credential_id=credential.pk,
            channel_id=credential.channel_id,
            from_email=addresses[0].lower(),
            subject=subject,
            message_id=message_id[:255],
            status=TxMessage.Status.REFUSED if email in refused else TxMessage.Status.QUEUED,
            smtp_reply=refused.get(email, ""),
            shared=True,
        )
        for email in emails
    ]
    ids = [str(message.public_id) for message in messages]
    queued = len(refused) < len(emails)
    if not key:
        store.store(messages, shared_payload=body, subscribers_by_email=True)
        if queued:
            wake.after_commit()  # now, unless the caller holds a transaction
        return RelayAccepted(ids)
    with transaction.atomic():
        record, earlier = _claim_key(f"relay:{credential.pk}", key, fingerprint)
        if earlier is not None:
            return RelayAccepted(list(earlier.get("ids", [])), duplicate=True)
        store.store(messages, shared_payload=body, subscribers_by_email=True)
        assert record is not None
        record.response = {"ids": ids}
        record.save(update_fields=["response"])
        if queued:
            wake.after_commit()
    return RelayAccepted(ids)


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name.lower())
    return values[0] if values else None


def _header_text(value: str | None, *, decode: bool = False) -> str:
    """A header's raw value on one line; ``decode``: its encoded words decoded too."""
    if value is None:
        return ""
    # 8-bit bytes in a header arrive as surrogates: read them as UTF-8.
    text = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if decode and "=?" in text:
        with contextlib.suppress(ValueError, LookupError, HeaderParseError):
            text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def rewrite_headers(raw: bytes, *, drop: set[str], add: list[tuple[str, str]]) -> bytes:
    """``raw`` with the named header fields (lower-case) removed, ``add`` put
    first; the body and every other byte untouched."""
    split = raw.find(b"\r\n\r\n")
    newline = b"\r\n"
    if split < 0:
        split = raw.find(b"\n\n")
        newline = b"\n"
    head, rest = (raw, b"") if split < 0 else (raw[:split], raw[split:])
    kept: list[bytes] = []
    skipping = False
    for line in head.split(newline):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        name = line.split(b":", 1)[0].strip().lower().decode("ascii", "replace")
        skipping = name in drop
        if not skipping:
            kept.append(line)
    first = [f"{name}: {value}".encode() for name, value in add]
    return newline.join(first + kept) + rest
