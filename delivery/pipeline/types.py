"""Value types every stage of the send pipeline shares.

A leaf module: it imports nothing from Django, the ORM or an ESP SDK, so the
prepare stage, the channels and the bounce code can all speak of a
``PreparedMessage`` or a ``SendResult`` without dragging each other in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class PreparedMessage:
    """One recipient's message, rendered: what any channel needs to send it."""

    envelope_from: str
    message_id: str
    from_header: str
    to_header: str
    recipient: str
    reply_to: str
    subject: str
    html: str
    text: str
    headers: list[tuple[str, str]]
    # (file name, content type, bytes): transactional mail's, for channels
    # that build the MIME themselves (ESP APIs).
    attachments: tuple[tuple[str, str, bytes], ...] = ()


class Outcome(StrEnum):
    SENT = "sent"
    PERMANENT = "permanent"  # 5xx: never retried
    TRANSIENT = "transient"  # 4xx, disconnects, timeouts: retried with backoff


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the server (or the ESP's API) answered for one message."""

    outcome: Outcome
    code: int | None
    reply: str
    connection_broken: bool = False
    provider_id: str = ""


class Stage(StrEnum):
    """The step of opening a channel that failed."""

    DNS = "dns"
    TCP = "tcp"
    TLS = "tls"
    SMTP = "smtp"
    AUTH = "auth"


class ChannelError(Exception):
    """The channel cannot be used at all (unreachable, TLS, credentials): a
    failure of the server, not of the recipient; ``stage`` says which step."""

    def __init__(self, stage: Stage, message: str) -> None:
        super().__init__(f"{stage.value.upper()}: {message}")
        self.stage = stage
        self.message = message


class NoConnectionSlot(Exception):
    """Every connection the server allows (across all workers) is in use."""
