"""The ESP channel: sending through an email service provider's HTTP API,
via django-anymail.

An ``SmtpServer`` row of kind ``esp`` is a sending channel like any SMTP
server: the chunk applies the same rates, quotas, domain limits, weights and
failover, and records outcomes in the same ledger. Only the transmit step
differs: ``EspTransport.send`` hands the prepared parts (subject, text, HTML,
our headers, the VERP envelope sender where the ESP supports one) to
anymail's backend for that ESP, and records the provider's message id for its
tracking webhooks.

Each lane of the transmit stage opens its own backend (its own HTTP session,
kept alive across its calls) and holds one of the server's shared
``ConnectionSlots``: ``max_connections`` is the number of API calls in flight
across every worker. Each message is one API call: our messages are rendered
per recipient, so an ESP's template "batch" sends do not apply; and because
each call stands alone, an error never leaves us guessing which messages of a
batch went out (anymail stops at the first error of a batch, after earlier
messages were sent).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from typing import TYPE_CHECKING, Any

import requests
from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.message import AnymailMessage
from django.utils.module_loading import import_string

from delivery.pipeline.slots import ConnectionSlots, bulk_connection_cap, refresh_due
from delivery.pipeline.types import (
    ChannelError,
    NoConnectionSlot,
    Outcome,
    PreparedMessage,
    SendResult,
    Stage,
)

if TYPE_CHECKING:
    from delivery.models import SmtpServer

log = logging.getLogger(__name__)


def backend_for(esp: str, credentials: dict[str, Any]) -> Any:
    backend_class = import_string(f"anymail.backends.{esp}.EmailBackend")
    return backend_class(
        fail_silently=False,
        # Features some ESPs lack (a custom envelope sender, say) are skipped
        # rather than failing the send.
        ignore_unsupported_features=True,
        **credentials,
    )


def settle_environment(session: requests.Session, url: str) -> None:
    """Read the proxy and CA-bundle environment once, for the session's life.

    requests otherwise re-reads it on every call (every environment variable
    scanned for proxies, ``~/.netrc`` looked up): about a sixth of an API
    call's CPU, paid 50 times over by a worker sending at full speed.
    ``HTTPS_PROXY``/``NO_PROXY`` and ``REQUESTS_CA_BUNDLE`` keep working; the
    ESP credentials never came from ``.netrc``.
    """
    if url:
        for scheme, proxy in requests.utils.get_environ_proxies(url).items():
            session.proxies.setdefault(scheme, proxy)
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle and session.verify is True:
        session.verify = bundle
    session.trust_env = False


class EspTransport:
    """One opened anymail backend; ``send`` returns a classified result."""

    def __init__(self, esp: str, credentials: dict[str, Any]) -> None:
        self.esp = esp
        try:
            self.backend = backend_for(esp, credentials)
            self.backend.open()
        except AnymailError as exc:
            raise ChannelError(Stage.AUTH, f"{esp}: {exc}") from exc
        session = getattr(self.backend, "session", None)
        if isinstance(session, requests.Session):
            settle_environment(session, str(getattr(self.backend, "api_url", "")))

    def close(self) -> None:
        try:
            self.backend.close()
        except Exception:  # closing must never fail a chunk that already sent
            log.debug("closing the %s backend failed", self.esp, exc_info=True)

    def send(self, prepared: PreparedMessage, *, metadata: dict[str, str]) -> SendResult:
        """Send one message. Raises ChannelError when the ESP cannot be
        used at all (unreachable, credentials refused): that is a channel
        failure, not this recipient's."""
        headers = dict(prepared.headers)
        headers["Message-ID"] = prepared.message_id
        message = AnymailMessage(
            subject=prepared.subject,
            body=prepared.text,
            from_email=prepared.from_header,
            to=[prepared.to_header],
            reply_to=[prepared.reply_to] if prepared.reply_to else None,
            headers=headers,
            metadata=metadata,
        )
        if prepared.html:
            message.attach_alternative(prepared.html, "text/html")
        for filename, content_type, content in prepared.attachments:
            message.attach(filename, content, content_type)
        message.envelope_sender = prepared.envelope_from
        try:
            self.backend.send_messages([message])
        except AnymailRecipientsRefused as exc:
            return SendResult(Outcome.PERMANENT, None, f"{self.esp} refused the recipient: {exc}")
        except AnymailRequestsAPIError as exc:
            return self._classify_http(exc)
        except AnymailAPIError as exc:
            return SendResult(Outcome.TRANSIENT, None, f"{self.esp}: {exc}"[:1000])
        status = message.anymail_status
        provider_id = str(status.message_id or "")
        recipient = status.recipients.get(prepared.recipient) if status.recipients else None
        state = recipient.status if recipient else next(iter(status.status or {"unknown"}))
        if recipient is not None and recipient.message_id:
            provider_id = str(recipient.message_id)
        if state in {"sent", "queued"} or (state == "unknown" and provider_id):
            return SendResult(Outcome.SENT, None, f"{self.esp}: {state}", provider_id=provider_id)
        if state == "failed":
            return SendResult(Outcome.TRANSIENT, None, f"{self.esp}: failed")
        # Rejected, invalid, or an answer that accepted nothing (no message id):
        # a retry could only fail again.
        return SendResult(Outcome.PERMANENT, None, f"{self.esp}: {state}")

    def _classify_http(self, exc: AnymailRequestsAPIError) -> SendResult:
        code = exc.status_code
        text = f"{self.esp} API: {exc}"[:1000]
        if code is None:
            # No HTTP answer at all: the ESP is unreachable.
            raise ChannelError(Stage.TCP, text) from exc
        if code in {401, 403}:
            raise ChannelError(Stage.AUTH, text) from exc
        if code == 429 or code >= 500:
            return SendResult(Outcome.TRANSIENT, code, text)
        return SendResult(Outcome.PERMANENT, code, text)


class EspLane:
    """One API session of a chunk, holding one shared call slot."""

    def __init__(self, channel: EspChannel, member: str) -> None:
        self.channel = channel
        self.member = member
        self.transport = EspTransport(channel.esp, channel.credentials)
        self._refreshed = time.monotonic()

    def send(self, prepared: PreparedMessage, payload: bytes | None) -> SendResult:
        # Metadata comes back in the ESP's webhooks: it names the ledger row.
        ref = dict(prepared.headers).get("X-Postino-Ref", "")
        metadata = {"postino_ref": ref} if ref else {}
        if self.channel.campaign_id is not None:
            metadata["postino_campaign"] = str(self.channel.campaign_id)
        return self.transport.send(prepared, metadata=metadata)

    def keepalive(self) -> None:
        # Keep a long chunk's slot from expiring (it lapses on its own after
        # SEND_SLOT_TTL_SECONDS if this worker dies holding it).
        if refresh_due(self._refreshed):
            self.channel.slots.acquire(self.member)
            self._refreshed = time.monotonic()

    def close(self, *, keep: bool = True) -> None:
        try:
            self.transport.close()
        finally:
            self.channel.slots.release(self.member)


class EspChannel:
    """An ESP's API; ``max_connections`` caps calls in flight across workers."""

    wants_bytes = False  # the ESP builds (and signs) the MIME itself

    def __init__(
        self, server: SmtpServer, *, campaign_id: int | None = None, bulk: bool = False
    ) -> None:
        self.server_id = server.pk
        self.label = server.name
        changed = server.updated_at.isoformat() if server.updated_at else ""
        self.identity = f"esp:{server.pk}:{changed}"
        self.esp = server.esp
        self.credentials: dict[str, Any] = dict(server.esp_credentials)
        self.campaign_id = campaign_id
        # Campaign chunks leave transactional mail its reserved call slots.
        cap = bulk_connection_cap(server.max_connections) if bulk else server.max_connections
        self.slots = ConnectionSlots(server.pk, cap)

    def open_lane(self) -> EspLane:
        # Unique per lane: two lanes in one process each count as a call in flight.
        member = f"{socket.gethostname()}:{os.getpid()}:esp:{self.server_id}:{uuid.uuid4().hex}"
        if not self.slots.acquire(member):
            raise NoConnectionSlot(f"all {self.slots.maximum} API calls in flight are in use")
        try:
            return EspLane(self, member)
        except BaseException:
            self.slots.release(member)
            raise

    def release_idle(self, keep: int) -> None:
        """Nothing kept open between chunks: each lane closes its session."""

    def close(self) -> None:
        """Nothing shared to close: each lane closes its own session."""
