"""Signed, unforgeable tokens for the links a subscriber receives.

Each purpose has its own salt, so a token minted for one link (say, the web
view) is rejected by another (say, unsubscribe). Tokens never expire: a
newsletter from last year must still unsubscribe its reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core import signing


class Purpose(StrEnum):
    UNSUBSCRIBE = "unsubscribe"
    PREFERENCES = "preferences"
    WEBVIEW = "webview"


class InvalidToken(Exception):
    """The token was tampered with, truncated, or minted for another purpose."""


@dataclass(frozen=True, slots=True)
class SubscriberLink:
    subscriber_id: int
    campaign_id: int | None


def _signer(purpose: Purpose) -> signing.Signer:
    return signing.Signer(salt=f"postino.link.{purpose.value}", sep=".")


def make_token(purpose: Purpose, *, subscriber_id: int, campaign_id: int | None = None) -> str:
    payload = f"{subscriber_id:x}-{campaign_id:x}" if campaign_id else f"{subscriber_id:x}"
    return _signer(purpose).sign(payload)


def read_token(purpose: Purpose, token: str) -> SubscriberLink:
    try:
        payload = _signer(purpose).unsign(token)
        parts = payload.split("-")
        if len(parts) > 2:
            raise ValueError(payload)
        subscriber_id = int(parts[0], 16)
        campaign_id = int(parts[1], 16) if len(parts) == 2 else None
    except (signing.BadSignature, ValueError) as exc:
        raise InvalidToken(str(exc)) from exc
    return SubscriberLink(subscriber_id=subscriber_id, campaign_id=campaign_id)
