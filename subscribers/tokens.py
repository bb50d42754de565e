"""Signed, unforgeable tokens for the links a subscriber receives.

A token is ``<payload>.<mac>``: the payload names the subscriber (and the
campaign) in hex, the MAC is a truncated HMAC-SHA256 (128 bits) keyed per
purpose from ``SECRET_KEY``. Each purpose has its own key, so a token minted
for one link (say, the web view) is rejected by another (say, unsubscribe).
Tokens never expire: a newsletter from last year must still unsubscribe its
reader. ``SECRET_KEY_FALLBACKS`` keep old links working across a key rotation.

A confirmation link names one subscription instead (``make_confirm_token``),
under its own purpose and key.

Every message carries three of these, so making one costs a single HMAC over
a few bytes with a key derived once per process.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from django.conf import settings


class Purpose(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    WEBVIEW = "webview"
    CONFIRM = "confirm"


class InvalidToken(Exception):
    """The token was tampered with, truncated, or minted for another purpose."""


@dataclass(frozen=True, slots=True)
class SubscriberLink:
    subscriber_id: int
    campaign_id: int | None


@lru_cache(maxsize=32)
def _key(label: str, secret: str) -> bytes:
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def _mac_with(label: str, message: str, secret: str) -> str:
    digest = hmac.new(_key(label, secret), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def sign(label: str, message: str) -> str:
    """The MAC of ``message`` under the key ``label`` names (one key per use:
    a MAC made for one never verifies for another)."""
    return _mac_with(label, message, settings.SECRET_KEY)


def signed(label: str, message: str, mac: str) -> bool:
    """Whether ``mac`` is ``message``'s under ``label``, with the current
    ``SECRET_KEY`` or one of its fallbacks (links outlive a key rotation)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(mac, _mac_with(label, message, secret)) for secret in secrets)


def _label(purpose: Purpose) -> str:
    return f"postino.link.{purpose.value}"


def make_token(purpose: Purpose, *, subscriber_id: int, campaign_id: int | None = None) -> str:
    payload = f"{subscriber_id:x}-{campaign_id:x}" if campaign_id else f"{subscriber_id:x}"
    return f"{payload}.{sign(_label(purpose), payload)}"


def _verified_payload(purpose: Purpose, token: str) -> str:
    payload, _, mac = token.rpartition(".")
    if not payload or not signed(_label(purpose), payload, mac):
        raise InvalidToken("bad signature")
    return payload


def read_token(purpose: Purpose, token: str) -> SubscriberLink:
    payload = _verified_payload(purpose, token)
    try:
        parts = payload.split("-")
        if len(parts) > 2:
            raise ValueError(payload)
        subscriber_id = int(parts[0], 16)
        campaign_id = int(parts[1], 16) if len(parts) == 2 else None
    except ValueError as exc:
        raise InvalidToken(str(exc)) from exc
    return SubscriberLink(subscriber_id=subscriber_id, campaign_id=campaign_id)


def make_confirm_token(subscription_id: int) -> str:
    """The token of a double opt-in confirmation link for one subscription."""
    payload = f"{subscription_id:x}"
    return f"{payload}.{sign(_label(Purpose.CONFIRM), payload)}"


def read_confirm_token(token: str) -> int:
    """The subscription id a confirmation token names; InvalidToken otherwise."""
    payload = _verified_payload(Purpose.CONFIRM, token)
    try:
        return int(payload, 16)
    except ValueError as exc:
        raise InvalidToken(str(exc)) from exc
