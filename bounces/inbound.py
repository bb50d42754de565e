"""The bounce server: an SMTP listener for mail sent back to our addresses.

DSNs and feedback reports arrive at the VERP envelope sender
(``bounces+<token>@BOUNCE_DOMAIN``); replies to the ``List-Unsubscribe``
``mailto:`` arrive at ``unsubscribe+<token>@BOUNCE_DOMAIN``. The listener
accepts only those (it is no open relay), stores each message as an
``InboundMessage`` at once and leaves the parsing to a worker (the
``process_inbound`` job, which calls ``handle_inbound``), so a slow parse
never makes a sending MTA wait and a crash loses nothing. STARTTLS is offered
when a certificate is configured.
"""

from __future__ import annotations

import logging
import ssl
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from bounces.models import BounceEvent, InboundMessage
from postino import jobs
from subscribers import consent
from subscribers.models import ConsentEvent
from subscribers.services import unsubscribe
from subscribers.tokens import InvalidToken, Purpose, read_token

log = logging.getLogger(__name__)

MAX_MESSAGE_BYTES = 10 * 1024 * 1024


def _our_local_parts() -> tuple[str, str]:
    return (
        settings.POSTINO["BOUNCE_LOCALPART"].lower(),
        settings.POSTINO["UNSUBSCRIBE_MAILTO_LOCALPART"].lower(),
    )


def accepts(address: str) -> bool:
    """Only our bounce and unsubscribe addresses, at our bounce domain."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    ours = settings.POSTINO["BOUNCE_DOMAIN"].lower()
    # An IP-address bounce domain may be written with or without its brackets.
    if domain.lower() not in {ours, ours.strip("[]")}:
        return False
    base = local.lower().partition("+")[0]
    return base in _our_local_parts()


def _store(mail_from: str, rcpt_tos: list[str], raw: bytes) -> int:
    # Runs in a thread of the listener's pool: its connection is closed after
    # each message rather than left open in a thread nobody else manages.
    try:
        with transaction.atomic():
            message = InboundMessage.objects.create(mail_from=mail_from, rcpt_to=rcpt_tos, raw=raw)
            jobs.process_inbound(message.pk)
        return message.pk
    finally:
        connections.close_all()


class BounceHandler:
    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if not accepts(address):
            return "550 5.7.1 Relaying denied: this server only takes bounces for us"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        data = raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogateescape")
        try:
            await sync_to_async(_store, thread_sensitive=False)(
                envelope.mail_from or "", list(envelope.rcpt_tos), data
            )
        except Exception:
            log.exception("could not store an inbound message")
            return "451 4.3.0 Temporarily unable to accept the message, try again later"
        return "250 2.0.0 Thank you"


def tls_context() -> ssl.SSLContext | None:
    cert = settings.POSTINO["BOUNCE_SERVER_TLS_CERT"]
    key = settings.POSTINO["BOUNCE_SERVER_TLS_KEY"]
    if not cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key or None)
    return context


def start_bounce_server(host: str, port: int, *, tls: ssl.SSLContext | None = None) -> Controller:
    """Start listening (in a thread); STARTTLS is offered, not required, with ``tls``."""
    controller = Controller(
        BounceHandler(),
        hostname=host,
        port=port,
        tls_context=tls,
        require_starttls=False,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
        enable_SMTPUTF8=True,
        server_hostname=settings.POSTINO["BOUNCE_DOMAIN"].strip("[]"),
    )
    controller.start()
    return controller


# --- processing (worker side) ------------------------------------------------------


def handle_inbound(message_id: int) -> list[BounceEvent]:
    """Parse and act on one stored message; safe to run twice."""
    from bounces.services import ingest_message

    message = InboundMessage.objects.filter(pk=message_id, processed_at__isnull=True).first()
    if message is None:
        return []
    raw = bytes(message.raw)
    events: list[BounceEvent] = []
    error = ""
    _, unsubscribe_local = _our_local_parts()
    try:
        for rcpt in message.rcpt_to:
            local = rcpt.rpartition("@")[0].lower()
            if local.startswith(unsubscribe_local + "+"):
                _unsubscribe_by_mail(rcpt.rpartition("@")[0][len(unsubscribe_local) + 1 :])
            else:
                events.extend(
                    ingest_message(raw, source=BounceEvent.Source.INBOUND, envelope_recipient=rcpt)
                )
    except Exception as exc:
        log.exception("inbound message %s could not be processed", message_id)
        error = f"{type(exc).__name__}: {exc}"
    InboundMessage.objects.filter(pk=message_id).update(
        processed_at=timezone.now(), error=error[:2000]
    )
    return events


def _unsubscribe_by_mail(token: str) -> None:
    """A reply to the List-Unsubscribe mailto: unsubscribe, as the link would."""
    try:
        link = read_token(Purpose.UNSUBSCRIBE, token)
    except InvalidToken:
        log.info("unsubscribe mail with an invalid token ignored")
        return
    list_ids = None
    if link.campaign_id:
        from campaigns.models import Campaign

        campaign = Campaign.objects.filter(pk=link.campaign_id).first()
        if campaign is not None:
            list_ids = list(campaign.lists.values_list("id", flat=True))
    unsubscribe(
        subscriber_id=link.subscriber_id,
        list_ids=list_ids,
        origin=consent.Origin(via=ConsentEvent.Via.EMAIL),
    )
