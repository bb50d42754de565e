"""Relay credentials: one login per application, shown once, stored hashed.

The UI, ``manage.py create_relay_credential`` and the relay itself call these.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from delivery.models import SmtpServer
from transactional.models import Category, RelayCredential

USERNAME_PREFIX = "tx-"
# As with API tokens: "is this login still used?" needs no more precision,
# and recording every message would make each one a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_DOMAIN_LABEL = "abcdefghijklmnopqrstuvwxyz0123456789-"


def hash_password(password: str) -> str:
    return hashlib.sha256(password.encode()).hexdigest()


def normalize_domains(domains: Iterable[str]) -> list[str]:
    """Lower-case IDNA domains, each checked; ``ValidationError`` names a bad one."""
    cleaned: list[str] = []
    for raw in domains:
        domain = raw.strip().lower().rstrip(".")
        if not domain:
            continue
        try:
            ascii_domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValidationError(f"{raw!r} is not a domain.") from exc
        labels = ascii_domain.split(".")
        if len(labels) < 2 or any(
            not label or label.startswith("-") or set(label) - set(_DOMAIN_LABEL)
            for label in labels
        ):
            raise ValidationError(f"{raw!r} is not a domain.")
        if ascii_domain not in cleaned:
            cleaned.append(ascii_domain)
    return cleaned


@dataclass(frozen=True)
class NewCredential:
    credential: RelayCredential
    # The only time the password exists outside the application's own config.
    password: str


def create_credential(
    *,
    name: str,
    allowed_from_domains: Iterable[str] = (),
    messages_per_minute: int | None = None,
    messages_per_day: int | None = None,
    max_message_bytes: int | None = None,
    channel: Any = None,
    category: Any = None,
    created_by: Any = None,
) -> NewCredential:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the application a name."})
    if RelayCredential.objects.filter(name=name).exists():
        raise ValidationError({"name": f"A credential named {name!r} exists already."})
    password = secrets.token_urlsafe(32)
    fields: dict[str, Any] = {}
    if max_message_bytes is not None:
        fields["max_message_bytes"] = max_message_bytes
    credential = RelayCredential.objects.create(
        name=name,
        username=USERNAME_PREFIX + secrets.token_hex(8),
        password_hash=hash_password(password),
        allowed_from_domains=normalize_domains(allowed_from_domains),
        messages_per_minute=messages_per_minute,
        messages_per_day=messages_per_day,
        channel=channel,
        category=category,
        created_by=created_by if getattr(created_by, "pk", None) else None,
        **fields,
    )
    return NewCredential(credential, password)


def update_credential_limits(
    *,
    credential: RelayCredential,
    allowed_from_domains: Iterable[str],
    messages_per_minute: int | None,
    messages_per_day: int | None,
    max_message_bytes: int,
    channel: SmtpServer | None,
    category: Category | None,
) -> RelayCredential:
    """What a credential may do; its login (username, password) never changes."""
    errors: dict[str, list[str]] = {}
    domains: list[str] = []
    try:
        domains = normalize_domains(allowed_from_domains)
    except ValidationError as exc:
        errors["allowed_from_domains"] = exc.messages
    if max_message_bytes < 1024:
        errors["max_message_bytes"] = ["At least 1 KB."]
    if errors:
        raise ValidationError(errors)
    # An UPDATE of these columns only, not save(): a save of the row as loaded
    # would write back a stale revoked_at (un-revoking a login revoked
    # meanwhile) and the relay's last_used_at.
    RelayCredential.objects.filter(pk=credential.pk).update(
        allowed_from_domains=domains,
        messages_per_minute=messages_per_minute,
        messages_per_day=messages_per_day,
        max_message_bytes=max_message_bytes,
        channel=channel,
        category=category,
    )
    credential.refresh_from_db()
    return credential


def revoke_credential(credential: RelayCredential) -> RelayCredential:
    """The login stops working at once; its messages stay in the log."""
    if credential.revoked_at is None:
        credential.revoked_at = timezone.now()
        credential.save(update_fields=["revoked_at"])
    return credential


def authenticate(username: str, password: str) -> RelayCredential | None:
    """The active credential for this login, or None."""
    credential = RelayCredential.objects.filter(
        username=username.strip(), revoked_at__isnull=True
    ).first()
    if credential is None or not hmac.compare_digest(
        credential.password_hash, hash_password(password)
    ):
        return None
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if credential.last_used_at is None or credential.last_used_at < stale:
        RelayCredential.objects.filter(pk=credential.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
    return credential


def from_allowed(credential: RelayCredential, address: str) -> bool:
    """Whether the credential may send From ``address`` (its domain or a subdomain)."""
    allowed = credential.allowed_from_domains or []
    if not allowed:
        return True
    domain = address.strip().strip("<>").rpartition("@")[2].lower().rstrip(".")
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return any(domain == item or domain.endswith("." + item) for item in allowed)
