"""Messages sent now, outside any campaign's ledger: test sends and
double opt-in confirmation emails.

They take the same road as campaign mail minus the claim and the record
stages: the server's channel (SMTP pool or ESP API, under its shared
connection cap), the gate (its rate, quotas and domain limits count these
messages too: the server counts them), and the transmit stage's lanes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from email.utils import parseaddr

import redis

from campaigns.models import Campaign
from delivery import dkim
from delivery.domains import keys_for
from delivery.mime import ascii_address
from delivery.models import SmtpServer
from delivery.pipeline.channel import open_channel
from delivery.pipeline.gate import Gate, ServerLimits, Verdict
from delivery.pipeline.prepare import MessageFactory, message_bytes
from delivery.pipeline.transmit import Done, Job, Transmitter
from delivery.pipeline.types import (
    ChannelError,
    NoConnectionSlot,
    Outcome,
    PreparedMessage,
    SendResult,
)
from subscribers.models import Subscriber

log = logging.getLogger(__name__)

# Few messages, sent while someone waits: a handful of connections is plenty.
MAX_LANES = 4
# A domain at its limit for longer than this is not waited for.
DOMAIN_WAIT_SECONDS = 2.0


def send_now(
    server: SmtpServer, messages: Sequence[PreparedMessage], *, campaign_id: int | None = None
) -> list[SendResult]:
    """Send each message through ``server``; one result per message, in order.

    A message that could not be attempted (no connection, quota spent, its
    domain at its limit) gets a transient result saying why. Raises
    ``ChannelError`` (or ``NoConnectionSlot``) when nothing could be attempted
    because no connection to the server could be opened.
    """
    results: list[SendResult | None] = [None] * len(messages)
    if not messages:
        return []
    channel = open_channel(server, campaign_id=campaign_id)
    gate = Gate(ServerLimits.for_server(server))
    keys: dict[str, list[dkim.DkimKey]] = {}
    transmitter = Transmitter(
        channel, max_lanes=min(MAX_LANES, server.max_connections, len(messages))
    )
    failure: Exception | None = None
    try:
        for index, prepared in enumerate(messages):
            payload = None
            if channel.wants_bytes:
                domain = parseaddr(prepared.from_header)[1].rpartition("@")[2]
                if domain not in keys:
                    keys[domain] = keys_for(domain)
                payload = message_bytes(prepared, keys[domain])
            refusal = _pass_gate(gate, prepared)
            if refusal is not None:
                results[index] = refusal
                continue
            transmitter.submit(Job(index, prepared, payload))
        while transmitter.in_flight:
            if transmitter.stranded():
                transmitter.take_back()
                break
            for event in transmitter.collect(timeout=0.2):
                if isinstance(event, Done):
                    assert isinstance(event.job.key, int)
                    if event.result is not None:
                        results[event.job.key] = event.result
                    else:
                        failure = event.error
                else:
                    failure = event.error
    finally:
        transmitter.close()
        channel.close()
    if all(result is None for result in results) and failure is not None:
        raise failure  # ChannelError, or NoConnectionSlot when every slot was busy
    return [
        result
        or SendResult(Outcome.TRANSIENT, None, f"not attempted: {failure or 'no connection'}")
        for result in results
    ]


def _pass_gate(gate: Gate, prepared: PreparedMessage) -> SendResult | None:
    """Wait for the server's rate; None when the message may go now."""
    domain = ascii_address(prepared.recipient).rpartition("@")[2].lower()
    deadline = time.monotonic() + DOMAIN_WAIT_SECONDS
    while True:
        try:
            verdict = gate.check(domain=domain)
        except redis.RedisError as exc:
            log.warning("gate unavailable (%s); sending without it", exc)
            return None
        if verdict.verdict is Verdict.OK:
            return None
        wait = verdict.wait_ms / 1000.0
        if verdict.verdict is Verdict.QUOTA:
            return SendResult(Outcome.TRANSIENT, None, "deferred: the server's quota is spent")
        if verdict.verdict is Verdict.DOMAIN and time.monotonic() + wait > deadline:
            return SendResult(Outcome.TRANSIENT, None, f"deferred: {domain} is at its limit")
        time.sleep(wait)


def send_tests(campaign_id: int, emails: list[str]) -> list[str]:
    """Send the campaign to a few addresses now, through its main server's
    channel; not recorded in the ledger. Returns the addresses accepted."""
    campaign = (
        Campaign.objects.select_related("template", "smtp_server").filter(pk=campaign_id).first()
    )
    if campaign is None or campaign.smtp_server is None:
        return []
    factory = MessageFactory(campaign)
    known = {s.email: s for s in Subscriber.objects.filter(email__in=emails)}
    messages = [factory.prepare_test(email, known.get(email)) for email in emails]
    try:
        results = send_now(campaign.smtp_server, messages)
    except (ChannelError, NoConnectionSlot) as exc:
        log.warning("test send of campaign %s failed: %s", campaign_id, exc)
        return []
    delivered = []
    for email, result in zip(emails, results, strict=True):
        if result.outcome is Outcome.SENT:
            delivered.append(email)
        else:
            log.warning("test send to %s refused: %s %s", email, result.code, result.reply)
    return delivered
