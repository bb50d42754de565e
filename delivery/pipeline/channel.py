"""The ``Channel`` protocol: what the transmit stage needs from a way of sending.

Two implementations: ``delivery.pipeline.smtp.SmtpChannel`` (pooled SMTP
connections) and ``delivery.pipeline.esp.EspChannel`` (an ESP's HTTP API via
anymail). Campaign chunks, test sends and confirmation emails all send through
``open_channel`` and the transmit stage, so every limit and cap applies to
each of them alike.

To add a channel: implement ``Channel`` and ``Lane`` below, and return it from
``open_channel`` for its kind of ``SmtpServer``.
"""

from __future__ import annotations

from typing import Protocol

from delivery.models import SmtpServer
from delivery.pipeline.esp import EspChannel
from delivery.pipeline.smtp import SmtpChannel
from delivery.pipeline.types import PreparedMessage, SendResult


class Lane(Protocol):
    """One connection (or API session): carries one message at a time.

    Lanes run in the transmit stage's threads, never touch the database, and
    are used by one thread at a time.
    """

    def send(self, prepared: PreparedMessage, payload: bytes | None) -> SendResult:
        """Send one message and classify the answer. Raises ``ChannelError`` or
        ``NoConnectionSlot`` only when the message could not be attempted
        (the connection could not be reopened)."""
        ...

    def keepalive(self) -> None:
        """Called between messages: refresh whatever lease the lane holds."""
        ...

    def close(self, *, keep: bool = True) -> None:
        """Done with the lane; ``keep`` lets a healthy connection be reused."""
        ...


class Channel(Protocol):
    server_id: int
    label: str
    # Names the server's configuration: a changed configuration is a new one.
    identity: str
    # True when lanes take the message as MIME bytes (built and DKIM-signed by
    # the prepare stage); False when the far end builds the MIME itself.
    wants_bytes: bool

    def open_lane(self) -> Lane:
        """Open one lane, taking one of the server's shared slots. May block on
        the network (connect, TLS, AUTH), so the transmit stage calls it from
        the lane's own thread. Raises ``NoConnectionSlot`` when every slot is
        taken, ``ChannelError`` when the server cannot be used."""
        ...

    def release_idle(self, keep: int) -> None:
        """Close idle kept-open connections beyond ``keep``, so their shared
        slots serve other workers' chunks instead of a pool."""
        ...

    def close(self) -> None: ...


def open_channel(
    server: SmtpServer, *, campaign_id: int | None = None, bulk: bool = False
) -> Channel:
    """The channel for a server row, SMTP or ESP. A ``bulk`` channel (a
    campaign's chunk) never takes the connections kept for transactional mail."""
    if server.kind == SmtpServer.Kind.ESP:
        return EspChannel(server, campaign_id=campaign_id, bulk=bulk)
    return SmtpChannel(server, bulk=bulk)
