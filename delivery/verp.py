"""VERP envelope senders that identify the exact ledger row a bounce is about.

``bounces+<delivery id in hex>-<mac>@<bounce domain>``: the MAC stops anyone
from forging bounces that would suppress other people's addresses. Local parts
stay lower-case alphanumeric, which every MTA preserves.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

_MAC_LENGTH = 10


def _mac(delivery_id: int) -> str:
    return _mac_for("postino.verp", delivery_id)


def _mac_for(purpose: str, number: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"{purpose}:{number}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode().lower()[:_MAC_LENGTH]


def make_token(delivery_id: int) -> str:
    return f"{delivery_id:x}-{_mac(delivery_id)}"


def make_tx_token(message_id: int) -> str:
    """A transactional message's token: ``t`` first, its own MAC purpose, so
    it can never be read as a campaign delivery's (or the other way round)."""
    return f"t{message_id:x}-{_mac_for('postino.verp.tx', message_id)}"


def read_tx_token(token: str) -> int | None:
    """The transactional message id in a VERP token, or None."""
    head, _, mac = token.strip().lower().partition("-")
    if not head.startswith("t"):
        return None
    try:
        message_id = int(head[1:], 16)
    except ValueError:
        return None
    expected = _mac_for("postino.verp.tx", message_id)
    return message_id if hmac.compare_digest(mac, expected) else None


def is_ours(token: str) -> bool:
    return read_token(token) is not None or read_tx_token(token) is not None


def read_token(token: str) -> int | None:
    """The delivery id in a VERP token, or None if it is not one of ours."""
    head, _, mac = token.strip().lower().partition("-")
    try:
        delivery_id = int(head, 16)
    except ValueError:
        return None
    return delivery_id if hmac.compare_digest(mac, _mac(delivery_id)) else None


def envelope_sender(delivery_id: int | None) -> str:
    return envelope_sender_for(make_token(delivery_id) if delivery_id is not None else None)


def envelope_sender_for(token: str | None) -> str:
    """``bounces+<token>@<bounce domain>``, or the plain bounce address."""
    local = settings.POSTINO["BOUNCE_LOCALPART"]
    domain = settings.POSTINO["BOUNCE_DOMAIN"]
    return f"{local}+{token}@{domain}" if token else f"{local}@{domain}"


def parse_envelope_recipient(address: str) -> int | None:
    """Delivery id from an address like bounces+<token>@domain, if ours."""
    token = token_in_address(address)
    return read_token(token) if token else None


def token_in_address(address: str) -> str | None:
    """The token of an address like bounces+<token>@domain, if it is one of
    ours (a campaign delivery's or a transactional message's)."""
    local, _, _domain = address.strip().strip("<>").rpartition("@")
    prefix = f"{settings.POSTINO['BOUNCE_LOCALPART']}+"
    if not local.lower().startswith(prefix):
        return None
    token = local[len(prefix) :].lower()
    return token if is_ours(token) else None
