"""The parser's results: what a bounce or complaint says about which recipient."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Kind = Literal["hard", "soft", "complaint", "autoreply", "delay", "not_bounce"]

# When a message names several recipients with different outcomes, the most
# consequential one names the whole message.
KIND_PRECEDENCE: dict[str, int] = {
    "complaint": 6,
    "hard": 5,
    "soft": 4,
    "delay": 3,
    "autoreply": 2,
    "not_bounce": 1,
}


@dataclass(slots=True)
class RecipientResult:
    email: str | None
    kind: Kind
    status: str | None = None
    action: str | None = None
    diagnostic: str | None = None
    remote_mta: str | None = None
    # A DSN's Original-Recipient when it differs from Final-Recipient (aliases,
    # forwarding): the address we actually sent to.
    original_recipient: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class BounceReport:
    kind: Kind
    recipients: list[RecipientResult] = field(default_factory=list)
    feedback_type: str | None = None
    verp_delivery_id: int | None = None
    # A transactional message's id, when the token is one of those.
    verp_tx_id: int | None = None
    campaign_id: int | None = None
    reporting_mta: str | None = None
    original_message_id: str | None = None
    subject: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def strongest(kinds: list[Kind], default: Kind = "not_bounce") -> Kind:
    return max(kinds, key=KIND_PRECEDENCE.__getitem__) if kinds else default
