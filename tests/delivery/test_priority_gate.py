"""Transactional mail's turn of a channel: ahead of the chunks, within its share."""

from __future__ import annotations

from typing import Any

import pytest

from delivery.pipeline.gate import PRIORITY_HORIZON_MS, Gate, GateResult, ServerLimits, Verdict
from delivery.pipeline.slots import ConnectionSlots, FairShare, bulk_connection_cap

pytestmark = pytest.mark.django_db


def limits(server_id: int, per_second: float, *, per_hour: int = 0) -> ServerLimits:
    return ServerLimits(
        server_id=server_id,
        interval_ms=1000.0 / per_second,
        burst_ms=0.0,
        per_hour=per_hour,
        per_day=0,
    )


class Transactional:
    """The gate as the transactional worker asks it (priority mode)."""

    def __init__(self, limits: ServerLimits, *, share: float) -> None:
        self.gate = Gate(limits, priority_share=share)

    def admit(self, domains: list[str]) -> list[GateResult]:
        return self.gate.admit([(d, "") for d in domains], horizon_ms=PRIORITY_HORIZON_MS)


def chunk_sending_through(server_id: int) -> FairShare:
    share = FairShare(server_id, 4, "chunk-1", ttl_ms=60_000)
    share.share()  # registers the chunk, as a running chunk does
    return share


def test_with_no_campaign_sending_transactional_mail_may_use_the_whole_rate(
    clean_redis: None,
) -> None:
    gate = Transactional(limits(9201, 10), share=0.2)
    answers = gate.admit(["example.org"] * 12)
    admitted = [a for a in answers if a.verdict is Verdict.OK]
    # Turns every 100 ms from now to the one-second horizon (eleven); the next waits.
    assert len(admitted) == 11
    assert [round(a.wait_ms, -1) for a in admitted[:3]] == [0, 100, 200]
    assert answers[-1].verdict is Verdict.WAIT


def test_while_a_campaign_sends_it_keeps_to_its_share(clean_redis: None) -> None:
    chunk_sending_through(9202)
    gate = Transactional(limits(9202, 10), share=0.2)
    answers = gate.admit(["example.org"] * 6)
    admitted = [a for a in answers if a.verdict is Verdict.OK]
    # A fifth of 10/s: one turn every 500 ms, so three within the horizon.
    assert [round(a.wait_ms, -1) for a in admitted] == [0, 500, 1000]
    assert answers[len(admitted)].verdict is Verdict.WAIT


def test_it_takes_the_next_turn_before_the_chunk_that_asks_after_it(clean_redis: None) -> None:
    chunk_sending_through(9203)
    bulk = Gate(limits(9203, 10))
    assert bulk.check(domain="example.org").verdict is Verdict.OK
    tx = Transactional(limits(9203, 10), share=0.5).admit(["example.org"])[0]
    assert tx.verdict is Verdict.OK
    assert 90 <= tx.wait_ms <= 100  # the very next turn of the server's rate
    behind = bulk.check(domain="example.org")
    assert behind.verdict is Verdict.WAIT
    assert 190 <= behind.wait_ms <= 200  # one turn later than it would have been


def test_quotas_count_both_kinds_of_mail(clean_redis: None) -> None:
    bulk = Gate(limits(9204, 1000, per_hour=2))
    tx = Transactional(limits(9204, 1000, per_hour=2), share=0.2)
    assert bulk.check(domain="example.org").verdict is Verdict.OK
    assert tx.admit(["example.org"])[0].verdict is Verdict.OK
    assert tx.admit(["example.org"])[0].verdict is Verdict.QUOTA


def test_bulk_leaves_the_reserved_connections_free(clean_redis: None, settings: Any) -> None:
    assert bulk_connection_cap(4) == 3
    assert bulk_connection_cap(1) == 1  # one connection cannot be split
    bulk = ConnectionSlots(9205, bulk_connection_cap(4))
    tx = ConnectionSlots(9205, 4)
    assert [bulk.acquire(f"bulk-{n}") for n in range(4)] == [True, True, True, False]
    assert tx.acquire("tx-1") is True
    assert tx.acquire("tx-2") is False  # the server's own cap still holds
    settings.POSTINO = {**settings.POSTINO, "TX_RESERVED_CONNECTIONS": 0}
    assert bulk_connection_cap(4) == 4
