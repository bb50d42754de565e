"""Writes for sending servers (SMTP servers and ESP channels) and recipient-domain
limits, and the connection check behind "Test connection"."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any, Final, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from delivery.domains import normalize_domain
from delivery.esp_catalog import ESPS, EspConfigurationError, validate_credentials
from delivery.limit_selectors import utc_today
from delivery.models import CaughtMessage, DomainLimit, SmtpServer, SystemMail
from delivery.pipeline.smtp import ConnectionCheck, SmtpSettings, check_connection
from delivery.selectors import campaigns_using_server

T = TypeVar("T")


# Integer columns are 32-bit signed in PostgreSQL.
MAX_INT = 2**31 - 1
MAX_WARMUP_GROWTH = 10.0


class Keep(Enum):
    """Default of update arguments that callers may leave out: keep the stored value.

    ``manage.py bootstrap`` updates the development server at every start and
    knows nothing about limits; leaving an argument out must not erase what a
    marketer configured.
    """

    KEEP = "keep"


KEEP: Final = Keep.KEEP


def set_system_mail_server(server: SmtpServer | None) -> None:
    """Choose the channel for Postino's own mail; None: back to the default."""
    with transaction.atomic():
        row = SystemMail.objects.select_for_update().first() or SystemMail()
        row.server = server
        row.save()


def _validate_channel(
    *, name: str, max_connections: int, messages_per_second: float
) -> dict[str, str]:
    """The rules every sending server follows, whatever its kind."""
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the server a name."
    if int(max_connections) < 1:
        errors["max_connections"] = "At least one connection."
    if not math.isfinite(float(messages_per_second)) or float(messages_per_second) <= 0:
        errors["messages_per_second"] = "Must be greater than zero."
    return errors


def _validate(
    *,
    name: str,
    host: str,
    port: int,
    security: str,
    max_connections: int,
    messages_per_second: float,
) -> dict[str, str]:
    channel = _validate_channel(
        name=name, max_connections=max_connections, messages_per_second=messages_per_second
    )
    errors: dict[str, str] = {}
    if not host.strip() or any(c.isspace() for c in host.strip()):
        errors["host"] = "Enter a host name or IP address."
    if not 1 <= int(port) <= 65535:
        errors["port"] = "Port must be between 1 and 65535."
    if security not in SmtpServer.Security.values:
        errors["security"] = f"Security must be one of {', '.join(SmtpServer.Security.values)}."
    # In the form's order: the name, the connection, then the limits.
    first = {key: message for key, message in channel.items() if key == "name"}
    return {**first, **errors, **channel}


class WrongServerKind(ValidationError):
    """An SMTP-only operation asked of an ESP channel, or the other way round."""


def _require_kind(server: SmtpServer, kind: str) -> None:
    if server.kind == kind:
        return
    if server.kind == SmtpServer.Kind.ESP:
        raise WrongServerKind(
            f"“{server.name}” is an ESP channel ({server.esp_label}), not an SMTP server: "
            "it has no host, login or connection to test; edit it as an ESP channel."
        )
    raise WrongServerKind(
        f"“{server.name}” is an SMTP server, not an ESP channel: edit it as an SMTP server."
    )


def _optional_positive(value: int | None, errors: dict[str, str], field: str, empty: str) -> None:
    if value is None:
        return
    if not 1 <= int(value) <= MAX_INT:
        errors[field] = f"Enter a whole number from 1 to {MAX_INT}, or leave it empty for {empty}."


@dataclass(frozen=True, slots=True)
class Shaping:
    """An SMTP server's hourly/daily limits and warm-up ramp, validated."""

    messages_per_hour: int | None
    messages_per_day: int | None
    warmup_start_per_day: int | None
    warmup_growth_factor: float
    warmup_started_on: date | None


def _validate_shaping(shaping: Shaping, errors: dict[str, str]) -> Shaping:
    """Check the limits (adding to ``errors``) and fill the ramp's start date."""
    hour, day = shaping.messages_per_hour, shaping.messages_per_day
    _optional_positive(hour, errors, "messages_per_hour", "no hourly limit")
    _optional_positive(day, errors, "messages_per_day", "no daily limit")
    if (
        hour is not None
        and day is not None
        and "messages_per_hour" not in errors
        and "messages_per_day" not in errors
        and hour > day
    ):
        errors["messages_per_hour"] = (
            f"The hourly limit ({hour}) cannot be more than the daily limit ({day}): "
            f"lower it to {day} or less, or raise the daily limit."
        )
    start = shaping.warmup_start_per_day
    _optional_positive(start, errors, "warmup_start_per_day", "no warm-up")
    factor = float(shaping.warmup_growth_factor)
    if not (math.isfinite(factor) and 1.0 <= factor <= MAX_WARMUP_GROWTH):
        errors["warmup_growth_factor"] = (
            f"The daily growth factor must be between 1.0 (flat) and {MAX_WARMUP_GROWTH:g}."
        )
    # Without a start there is no ramp, and so no day 0 to remember; with one,
    # day 0 defaults to today (a ramp re-enabled later starts afresh).
    started_on = (shaping.warmup_started_on or utc_today()) if start is not None else None
    return Shaping(
        messages_per_hour=None if hour is None else int(hour),
        messages_per_day=None if day is None else int(day),
        warmup_start_per_day=None if start is None else int(start),
        warmup_growth_factor=factor,
        warmup_started_on=started_on,
    )


def _save_server(server: SmtpServer, name: str) -> SmtpServer:
    try:
        with transaction.atomic():
            server.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A server named {name.strip()!r} already exists."}) from exc
    return server


def _apply_shaping(server: SmtpServer, shaping: Shaping) -> None:
    server.messages_per_hour = shaping.messages_per_hour
    server.messages_per_day = shaping.messages_per_day
    server.warmup_start_per_day = shaping.warmup_start_per_day
    server.warmup_growth_factor = shaping.warmup_growth_factor
    server.warmup_started_on = shaping.warmup_started_on


def create_smtp_server(
    *,
    name: str,
    host: str,
    port: int,
    security: str = SmtpServer.Security.STARTTLS,
    username: str = "",
    password: str = "",
    max_connections: int = 4,
    messages_per_second: float = 50.0,
    messages_per_hour: int | None = None,
    messages_per_day: int | None = None,
    warmup_start_per_day: int | None = None,
    warmup_growth_factor: float = 1.5,
    warmup_started_on: date | None = None,
) -> SmtpServer:
    """Add a server. Limits are optional; a warm-up start without a date starts today (UTC)."""
    errors = _validate(
        name=name,
        host=host,
        port=port,
        security=security,
        max_connections=max_connections,
        messages_per_second=messages_per_second,
    )
    shaping = _validate_shaping(
        Shaping(
            messages_per_hour=messages_per_hour,
            messages_per_day=messages_per_day,
            warmup_start_per_day=warmup_start_per_day,
            warmup_growth_factor=warmup_growth_factor,
            warmup_started_on=warmup_started_on,
        ),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    server = SmtpServer(
        name=name.strip(),
        host=host.strip(),
        port=int(port),
        security=security,
        username=username.strip(),
        max_connections=int(max_connections),
        messages_per_second=float(messages_per_second),
    )
    _apply_shaping(server, shaping)
    server.password = password
    return _save_server(server, name)


def update_smtp_server(
    *,
    server: SmtpServer,
    name: str,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str | None,
    max_connections: int,
    messages_per_second: float,
    messages_per_hour: int | Keep | None = KEEP,
    messages_per_day: int | Keep | None = KEEP,
    warmup_start_per_day: int | Keep | None = KEEP,
    warmup_growth_factor: float | Keep = KEEP,
    warmup_started_on: date | Keep | None = KEEP,
) -> SmtpServer:
    """Update a server. ``password=None`` keeps the stored one (forms never show it back);
    a limit left out (``KEEP``) keeps its stored value, ``None`` removes it.

    Raises ``WrongServerKind`` for an ESP channel (see ``update_esp_server``)."""
    _require_kind(server, SmtpServer.Kind.SMTP)
    errors = _validate(
        name=name,
        host=host,
        port=port,
        security=security,
        max_connections=max_connections,
        messages_per_second=messages_per_second,
    )
    shaping = _validate_shaping(
        _kept_shaping(
            server,
            messages_per_hour=messages_per_hour,
            messages_per_day=messages_per_day,
            warmup_start_per_day=warmup_start_per_day,
            warmup_growth_factor=warmup_growth_factor,
            warmup_started_on=warmup_started_on,
        ),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    server.name = name.strip()
    server.host = host.strip()
    server.port = int(port)
    server.security = security
    server.username = username.strip()
    if password is not None:
        server.password = password
    server.max_connections = int(max_connections)
    server.messages_per_second = float(messages_per_second)
    _apply_shaping(server, shaping)
    return _save_server(server, name)


def _kept_shaping(
    server: SmtpServer,
    *,
    messages_per_hour: int | Keep | None,
    messages_per_day: int | Keep | None,
    warmup_start_per_day: int | Keep | None,
    warmup_growth_factor: float | Keep,
    warmup_started_on: date | Keep | None,
) -> Shaping:
    """The limits an update asks for, with what it left out kept as stored."""
    return Shaping(
        messages_per_hour=_kept(messages_per_hour, server.messages_per_hour),
        messages_per_day=_kept(messages_per_day, server.messages_per_day),
        warmup_start_per_day=_kept(warmup_start_per_day, server.warmup_start_per_day),
        warmup_growth_factor=_kept(warmup_growth_factor, server.warmup_growth_factor),
        warmup_started_on=_kept(warmup_started_on, server.warmup_started_on),
    )


def _kept(value: T | Keep, stored: T) -> T:
    return stored if isinstance(value, Keep) else value


# --- ESP channels ---------------------------------------------------------------


def _clean_credentials(credentials: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """Keys as anymail names its settings (lower-case), empty values left out.

    Values are text, except anymail's ``*_params`` settings (Amazon SES's
    ``client_params``, say), which are objects: given as text they must hold
    a JSON object. Returns the cleaned credentials and an error, if any.
    """
    cleaned: dict[str, Any] = {}
    for raw_key, value in credentials.items():
        key = str(raw_key).strip().lower()
        if not key:
            return cleaned, "A setting has no name."
        if key.endswith("_params"):
            if isinstance(value, str) and value.strip():
                try:
                    value = json.loads(value)
                except ValueError:
                    value = None
            elif isinstance(value, str):
                continue
            if not isinstance(value, dict):
                return (
                    cleaned,
                    f'{key} must be a JSON object, such as {{"region_name": "eu-west-1"}}.',
                )
        elif isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        else:
            return cleaned, f"{key} must be text."
        if key in cleaned:
            return cleaned, f"{key} is given twice."
        cleaned[key] = value
    return cleaned, None


def _validate_esp(
    *,
    esp: str,
    credentials: dict[str, Any] | None,
    stored: SmtpServer | None,
    errors: dict[str, str],
) -> tuple[str, dict[str, Any]]:
    """Check the ESP's name and its credentials (``None``: keep the stored ones)."""
    esp = esp.strip().lower()
    spec = ESPS.get(esp)
    if spec is None:
        errors["esp"] = f"Unknown ESP {esp!r}; choose one of {', '.join(sorted(ESPS))}."
        return esp, {}
    if credentials is None and stored is not None and stored.esp != esp:
        # Another provider's key would only be refused at the first send.
        errors["credentials"] = (
            f"Enter the credentials for {spec.label}: the stored ones are for {stored.esp_label}."
        )
        return esp, {}
    if credentials is None:
        cleaned, problem = (stored.esp_credentials if stored else {}), None
    else:
        cleaned, problem = _clean_credentials(credentials)
    if problem is None:
        try:
            validate_credentials(esp, cleaned)
        except EspConfigurationError as exc:
            problem = str(exc)
    if problem is not None:
        errors["credentials"] = problem
    return esp, cleaned


def create_esp_server(
    *,
    name: str,
    esp: str,
    credentials: dict[str, Any],
    max_connections: int = 4,
    messages_per_second: float = 50.0,
    messages_per_hour: int | None = None,
    messages_per_day: int | None = None,
    warmup_start_per_day: int | None = None,
    warmup_growth_factor: float = 1.5,
    warmup_started_on: date | None = None,
) -> SmtpServer:
    """Add a sending channel through an ESP's API (django-anymail).

    ``credentials`` are anymail's settings for that ESP, by their lower-case
    names (``server_token`` for Postmark, ``api_key`` for SendGrid...);
    they are stored encrypted and never shown back. They are checked for
    completeness here, and against the ESP by the first send: a refusal
    takes the channel out of rotation. Limits work as for SMTP servers;
    ``max_connections`` bounds the API calls in flight across all workers.
    """
    errors = _validate_channel(
        name=name, max_connections=max_connections, messages_per_second=messages_per_second
    )
    esp, cleaned = _validate_esp(esp=esp, credentials=credentials, stored=None, errors=errors)
    shaping = _validate_shaping(
        Shaping(
            messages_per_hour=messages_per_hour,
            messages_per_day=messages_per_day,
            warmup_start_per_day=warmup_start_per_day,
            warmup_growth_factor=warmup_growth_factor,
            warmup_started_on=warmup_started_on,
        ),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    # Host, port, security and login are SMTP's: left at their defaults.
    server = SmtpServer(
        name=name.strip(),
        kind=SmtpServer.Kind.ESP,
        esp=esp,
        max_connections=int(max_connections),
        messages_per_second=float(messages_per_second),
    )
    server.esp_credentials = cleaned
    _apply_shaping(server, shaping)
    return _save_server(server, name)


def update_esp_server(
    *,
    server: SmtpServer,
    name: str,
    esp: str,
    credentials: dict[str, Any] | None,
    max_connections: int,
    messages_per_second: float,
    messages_per_hour: int | Keep | None = KEEP,
    messages_per_day: int | Keep | None = KEEP,
    warmup_start_per_day: int | Keep | None = KEEP,
    warmup_growth_factor: float | Keep = KEEP,
    warmup_started_on: date | Keep | None = KEEP,
) -> SmtpServer:
    """Update an ESP channel. ``credentials=None`` keeps the stored ones (they
    are never shown back), unless the ESP changes, which needs its own;
    otherwise they are replaced as a whole. Limits as in ``update_smtp_server``.

    Raises ``WrongServerKind`` for an SMTP server."""
    _require_kind(server, SmtpServer.Kind.ESP)
    errors = _validate_channel(
        name=name, max_connections=max_connections, messages_per_second=messages_per_second
    )
    esp, cleaned = _validate_esp(esp=esp, credentials=credentials, stored=server, errors=errors)
    shaping = _validate_shaping(
        _kept_shaping(
            server,
            messages_per_hour=messages_per_hour,
            messages_per_day=messages_per_day,
            warmup_start_per_day=warmup_start_per_day,
            warmup_growth_factor=warmup_growth_factor,
            warmup_started_on=warmup_started_on,
        ),
        errors,
    )
    if errors:
        raise ValidationError(errors)
    server.name = name.strip()
    server.esp = esp
    if credentials is not None:
        server.esp_credentials = cleaned
    server.max_connections = int(max_connections)
    server.messages_per_second = float(messages_per_second)
    _apply_shaping(server, shaping)
    return _save_server(server, name)


# --- Recipient-domain limits ----------------------------------------------------


def _clean_domain_limit(
    *, domain: str, messages_per_minute: int, exclude_pk: int | None
) -> tuple[str, int]:
    errors: dict[str, str] = {}
    normalized = ""
    try:
        normalized = normalize_domain(domain or "")
    except ValueError as exc:
        errors["domain"] = str(exc)
    else:
        taken = DomainLimit.objects.filter(domain=normalized)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            errors["domain"] = f"{normalized} already has a limit; edit that one instead."
    if not 1 <= int(messages_per_minute) <= MAX_INT:
        errors["messages_per_minute"] = "Allow at least 1 message per minute."
    if errors:
        raise ValidationError(errors)
    return normalized, int(messages_per_minute)


def _save_domain_limit(domain_limit: DomainLimit) -> DomainLimit:
    try:
        with transaction.atomic():
            domain_limit.save()
    except IntegrityError as exc:
        # Someone else added the same domain between our check and the insert.
        raise ValidationError(
            {"domain": f"{domain_limit.domain} already has a limit; edit that one instead."}
        ) from exc
    return domain_limit


def create_domain_limit(*, domain: str, messages_per_minute: int) -> DomainLimit:
    """Cap the messages per minute to one recipient domain, across every server and worker.

    The domain is stored lower-case in its ASCII (IDNA) form. Workers re-read
    the limits every 30 seconds (``delivery.pipeline.gate.domain_limits``).
    """
    domain, per_minute = _clean_domain_limit(
        domain=domain, messages_per_minute=messages_per_minute, exclude_pk=None
    )
    return _save_domain_limit(DomainLimit(domain=domain, messages_per_minute=per_minute))


def update_domain_limit(
    *, domain_limit: DomainLimit, domain: str, messages_per_minute: int
) -> DomainLimit:
    domain, per_minute = _clean_domain_limit(
        domain=domain, messages_per_minute=messages_per_minute, exclude_pk=domain_limit.pk
    )
    domain_limit.domain = domain
    domain_limit.messages_per_minute = per_minute
    return _save_domain_limit(domain_limit)


def delete_domain_limit(*, domain_limit: DomainLimit) -> None:
    domain_limit.delete()


def check_smtp_server(server: SmtpServer) -> ConnectionCheck:
    """Connect, negotiate TLS and authenticate; report exactly which step failed.

    Raises ``WrongServerKind`` for an ESP channel: its credentials are checked
    by the first send, and a refusal takes the channel out of rotation."""
    _require_kind(server, SmtpServer.Kind.SMTP)
    return check_connection(SmtpSettings.from_server(server))


def clear_outbox() -> int:
    """Delete every message the development mail catcher holds; returns the count."""
    deleted, _ = CaughtMessage.objects.all().delete()
    return deleted


class ServerInUse(Exception):
    """Campaigns reference the sending server (``on_delete=PROTECT``)."""


def delete_server(*, server: SmtpServer) -> None:
    """Delete an SMTP server or ESP channel no campaign uses.

    Campaigns keep their server (``PROTECT``): a sent campaign's page says what it
    went through, and a draft must not lose its server silently. Delivery rows
    only lose their link to it (``SET_NULL``).
    """
    with transaction.atomic():
        users = campaigns_using_server(server.pk)
        if users:
            raise ServerInUse(_in_use_message(server, users))
        try:
            with transaction.atomic():
                server.delete()
        except ProtectedError as exc:
            # A campaign chose the server between the check and the delete.
            raise ServerInUse(_in_use_message(server, campaigns_using_server(server.pk))) from exc


def _in_use_message(server: SmtpServer, campaigns: list[str], *, most: int = 5) -> str:
    shown = ", ".join(f"“{name}”" for name in campaigns[:most])
    more = f" and {len(campaigns) - most} more" if len(campaigns) > most else ""
    return (
        f"“{server.name}” is used by {len(campaigns)} "
        f"campaign{'s' if len(campaigns) != 1 else ''}: {shown}{more}; "
        "choose another server for the drafts among them; "
        "a campaign that was sent keeps the server it went through"
    )
