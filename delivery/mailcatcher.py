"""The built-in development mail catcher: an SMTP server that keeps every message.

It accepts any mail on loopback, without TLS or AUTH, and stores each message
as a ``CaughtMessage`` that the Outbox page shows. Point an SMTP server at it
(``manage.py bootstrap`` creates "Local mail catcher") and campaigns run end to
end without sending anything to the outside world.

aiosmtpd runs its event loop in a thread of its own; the ORM is synchronous, so
every database write is handed to a worker thread with ``sync_to_async``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email.parser import BytesHeaderParser
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connections
from django.db.models import BinaryField, F, Func, QuerySet, Value

from delivery.models import CaughtMessage

log = logging.getLogger(__name__)

# Newest messages kept; older ones are deleted as new ones arrive.
DEFAULT_KEEP = 5000
# Campaign messages with attachments-sized images can be big; still bounded.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
# Shown in the greeting; also avoids aiosmtpd's default getfqdn(), a DNS lookup
# that can stall start-up on machines without working DNS.
SERVER_NAME = "postino-mailcatcher"

_SUBJECT_MAX = CaughtMessage._meta.get_field("subject").max_length or 998
_ADDRESS_MAX = CaughtMessage._meta.get_field("mail_from").max_length or 320


def decoded_subject(raw: bytes) -> str:
    """The Subject header of a raw message, RFC 2047 words and UTF-8 decoded."""
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        subject = str(headers.get("Subject", "") or "")
    except (ValueError, LookupError, TypeError):
        # A malformed header must not lose the message: keep it without a subject.
        return ""
    return " ".join(subject.split())[:_SUBJECT_MAX]


# The Outbox list reads only this much of each raw message: enough for the
# headers of any real message (DKIM signatures included), never a big body.
HEADER_PREFIX_BYTES = 32 * 1024


def decoded_from(raw: bytes) -> str:
    """The From header of a raw message (or its headers alone), decoded for display.

    ``News <news@example.com>``, with RFC 2047 display names decoded; empty when
    the message has no readable From header.
    """
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        sender = str(headers.get("From", "") or "")
    except (ValueError, LookupError, TypeError, IndexError):
        return ""
    return " ".join(sender.split())


def with_header_prefix(messages: QuerySet[CaughtMessage]) -> QuerySet[CaughtMessage]:
    """Annotate ``head``: the first bytes of ``raw``, cut in the database.

    A list page needs the From header, not megabytes of body per row; one
    query still serves the whole page.
    """
    return messages.defer("raw").annotate(
        head=Func(
            F("raw"),
            Value(1),
            Value(HEADER_PREFIX_BYTES),
            function="substring",
            output_field=BinaryField(),
        )
    )


def store_message(*, mail_from: str, rcpt_to: list[str], raw: bytes, keep: int) -> CaughtMessage:
    """Save one caught message and prune the oldest beyond ``keep``."""
    close_old_connections()
    message = CaughtMessage.objects.create(
        mail_from=mail_from[:_ADDRESS_MAX],
        rcpt_to=list(rcpt_to),
        subject=decoded_subject(raw),
        raw=raw,
    )
    # Ids only grow, so everything at or below (newest id - keep) is outside
    # the newest ``keep`` rows: one indexed range delete, no counting.
    CaughtMessage.objects.filter(id__lte=message.pk - keep).delete()
    return message


class CatchingHandler:
    """aiosmtpd handler: accept every recipient, store every message."""

    def __init__(self, *, keep: int = DEFAULT_KEEP) -> None:
        self.keep = keep
        # thread_sensitive: all writes go through one thread, in order.
        self._store = sync_to_async(store_message, thread_sensitive=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            await self._store(
                mail_from=envelope.mail_from or "",
                rcpt_to=[str(r) for r in envelope.rcpt_tos],
                raw=bytes(raw),
                keep=self.keep,
            )
        except DatabaseError:
            # A transient reply: the sender keeps the message and tries again.
            log.exception("mail catcher could not store a message")
            return "451 4.3.0 Could not store the message, try again later"
        return "250 2.0.0 Message caught"


class MailCatcher(Controller):
    """aiosmtpd's threaded controller, closing the handler's database connection on stop."""

    def stop(self, no_assert: bool = False) -> None:
        if self.loop.is_running():
            # The writes ran in asgiref's executor thread, which owns a DB
            # connection; close it there, or it outlives the catcher (and, in
            # tests, blocks dropping the test database).
            close = sync_to_async(connections.close_all, thread_sensitive=True)
            future = asyncio.run_coroutine_threadsafe(close(), self.loop)
            with contextlib.suppress(TimeoutError, DatabaseError):
                future.result(timeout=5)
        super().stop(no_assert=no_assert)


def start_mailcatcher(host: str, port: int, *, keep: int = DEFAULT_KEEP) -> MailCatcher:
    """Start the catcher in a background thread; call ``.stop()`` on the result."""
    controller = MailCatcher(
        CatchingHandler(keep=keep),
        hostname=host,
        port=port,
        server_hostname=SERVER_NAME,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
        decode_data=False,
    )
    controller.start()
    return controller
