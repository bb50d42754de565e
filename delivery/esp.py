"""Sending through an email service provider's HTTP API, via django-anymail.

An ``SmtpServer`` row of kind ``esp`` is a sending channel like any SMTP
server: the chunk loop applies the same rates, quotas, domain limits, weights
and failover, and records outcomes in the same ledger. Only the last step
differs: ``EspTransport.send`` hands the prepared parts (subject, text, HTML,
our headers, the VERP envelope sender where the ESP supports one) to
anymail's backend for that ESP, and records the provider's message id for its
tracking webhooks.

One backend per chunk, opened once, so its HTTP session (keep-alive
connection) is reused for every message. Each message is one API call: our
messages are rendered per recipient, so an ESP's template "batch" sends do
not apply; and because each call stands alone, an error never leaves us
guessing which messages of a batch went out (anymail stops at the first error
of a batch, after earlier messages were sent).
"""

from __future__ import annotations

import logging
from typing import Any

from anymail.exceptions import (
    AnymailAPIError,
    AnymailError,
    AnymailRecipientsRefused,
    AnymailRequestsAPIError,
)
from anymail.message import AnymailMessage
from django.utils.module_loading import import_string

from delivery.messages import PreparedMessage
from delivery.smtp import Outcome, SendResult, SmtpConnectError, Stage

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


class EspTransport:
    """One opened anymail backend; ``send`` returns a classified result."""

    def __init__(self, esp: str, credentials: dict[str, Any]) -> None:
        self.esp = esp
        try:
            self.backend = backend_for(esp, credentials)
            self.backend.open()
        except AnymailError as exc:
            raise SmtpConnectError(Stage.AUTH, f"{esp}: {exc}") from exc

    def close(self) -> None:
        try:
            self.backend.close()
        except Exception:  # closing must never fail a chunk that already sent
            log.debug("closing the %s backend failed", self.esp, exc_info=True)

    def send(self, prepared: PreparedMessage, *, metadata: dict[str, str]) -> SendResult:
        """Send one message. Raises SmtpConnectError when the ESP cannot be
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
        message.attach_alternative(prepared.html, "text/html")
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
            raise SmtpConnectError(Stage.TCP, text) from exc
        if code in {401, 403}:
            raise SmtpConnectError(Stage.AUTH, text) from exc
        if code == 429 or code >= 500:
            return SendResult(Outcome.TRANSIENT, code, text)
        return SendResult(Outcome.PERMANENT, code, text)
