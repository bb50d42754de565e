"""Many messages in flight per worker: pipelined SMTP, many connections at
once, and what a misbehaving connection may (and may not) do to the others.
Real SMTP servers on loopback; real workers where the behaviour is theirs."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from campaigns.models import Campaign
from campaigns.services import start_campaign
from delivery.models import Delivery, SmtpServer
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.direct import send_tests
from delivery.pipeline.gate import ADMIT_BATCH
from delivery.pipeline.smtp import POOL, SmtpChannel, SmtpPool, SmtpSettings, send_message
from delivery.pipeline.transmit import Done, Job, Transmitter
from delivery.pipeline.types import Outcome, PreparedMessage
from tests.delivery.test_campaign_end_to_end import wait_for_status
from tests.delivery.test_engine_failures import _max_in_window
from tests.delivery.test_worker_control import wait_until
from tests.support.esp import FakeApi, install_fake_api, postmark_ok
from tests.support.factories import (
    add_audience,
    make_campaign,
    make_list,
    make_smtp_server,
    running,
)
from tests.support.smtpd import RunningSmtpServer, free_port
from tests.support.workers import start_beat, start_worker, worker_environment

MESSAGE = b"From: a@example.com\r\nTo: b@example.org\r\nSubject: hi\r\n\r\n.leading dot\r\nbye\r\n"


class PipeliningOnlyServer:
    """An SMTP server that answers MAIL, RCPT and DATA only once all three
    have arrived: a client that waits for each reply before sending the next
    command never gets one (and times out)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[bytes] = []
        self.reply_writes_per_message: list[int] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        conn, _ = self._listener.accept()
        with conn:
            conn.sendall(b"220 pipe ready\r\n")
            buffer = b""

            def line() -> bytes:
                nonlocal buffer
                while b"\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        raise EOFError
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n")
                return head

            try:
                while True:
                    command = line()
                    verb = command[:4].upper()
                    if verb == b"EHLO":
                        conn.sendall(b"250-pipe\r\n250-PIPELINING\r\n250 SIZE 1000000\r\n")
                    elif verb == b"MAIL":
                        rcpt, data = line(), line()  # nothing is answered before these
                        assert rcpt.upper().startswith(b"RCPT") and data.upper() == b"DATA"
                        conn.sendall(b"250 sender ok\r\n250 recipient ok\r\n354 go ahead\r\n")
                        body = b""
                        while True:
                            part = line()
                            if part == b".":
                                break
                            body += part + b"\r\n"
                        self.messages.append(body)
                        conn.sendall(b"250 queued as 1\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        return
                    else:
                        conn.sendall(b"250 ok\r\n")
            except (EOFError, OSError):
                return

    def close(self) -> None:
        self._listener.close()


def test_pipelining_sends_mail_rcpt_and_data_in_one_round_trip() -> None:
    server = PipeliningOnlyServer()
    cfg = SmtpSettings(host="127.0.0.1", port=server.port, security="none", timeout=3.0, key="p")
    pool = SmtpPool()
    try:
        with pool.connection(cfg) as handle:
            results = [
                send_message(handle, envelope_from="a@example.com", recipient=rcpt, message=MESSAGE)
                for rcpt in ("b@example.org", "c@example.org")
            ]
    finally:
        pool.close_all()
        server.close()
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    # Both over one connection, the leading dot stuffed on the wire and
    # unstuffed by the server's reading (it keeps the doubled dot as sent).
    assert len(server.messages) == 2
    assert b"\r\n..leading dot\r\n" in server.messages[0]


@pytest.fixture
def slow_server(smtpd: RunningSmtpServer) -> RunningSmtpServer:
    """The test server, offering PIPELINING and answering each DATA after 50 ms."""
    smtpd.handler.offer_pipelining = True
    smtpd.handler.data_delay = 0.05
    return smtpd


@pytest.mark.django_db
def test_one_chunk_keeps_many_connections_busy_and_a_bad_one_affects_only_its_message(
    slow_server: RunningSmtpServer, clean_redis: None, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "SMTP_TIMEOUT": 1.0, "RETRY_BASE_SECONDS": 60.0}
    handler = slow_server.handler
    handler.refuse_always["reader5@example.org"] = "550 5.1.1 No such user"
    handler.reply_421_once.add("reader10@example.org")
    handler.stall_once.add("reader20@example.org")
    handler.stall_seconds = 3.0
    news = make_list()
    add_audience(news, 80)
    campaign = running(
        make_campaign(lists=[news], server=make_smtp_server(slow_server, connections=8))
    )

    assert run_chunk(campaign.pk) == 77

    rows = {
        row.subscriber.email: row
        for row in Delivery.objects.filter(campaign=campaign).select_related("subscriber")
    }
    assert (rows["reader5@example.org"].status, rows["reader5@example.org"].smtp_code) == (
        "failed", 550,
    )  # fmt: skip
    for address in ("reader10@example.org", "reader20@example.org"):
        assert (rows[address].status, rows[address].attempts) == ("pending", 1), address
    assert sum(row.status == "sent" for row in rows.values()) == 77
    # Many at once, never more than the server allows.
    assert 4 <= handler.most_in_data <= 8
    received = handler.recipients()
    assert max(received.values()) == 1


@pytest.mark.django_db
def test_test_sends_of_an_esp_campaign_arrive_through_the_api(
    monkeypatch: pytest.MonkeyPatch, clean_redis: None
) -> None:
    api: FakeApi = install_fake_api(monkeypatch, postmark_ok)
    server = SmtpServer(name="Postmark", kind="esp", esp="postmark", max_connections=2)
    server.esp_credentials = {"server_token": "pm-token"}
    server.save()
    campaign = make_campaign(lists=[make_list()], server=server)

    delivered = send_tests(campaign.pk, ["boss@example.com", "editor@example.com"])

    assert sorted(delivered) == ["boss@example.com", "editor@example.com"]
    assert sorted(call["payload"]["To"] for call in api.calls) == [
        "boss@example.com", "editor@example.com",
    ]  # fmt: skip
    assert all(call["payload"]["Subject"].startswith("[Test] ") for call in api.calls)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_rate_cap_holds_with_many_connections_in_two_workers(
    slow_server: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    news = make_list()
    add_audience(news, 150)
    rate = 40.0
    server = make_smtp_server(slow_server, rate=rate, connections=20)
    campaign = make_campaign(lists=[news], server=server)
    arrivals: list[float] = []
    original = slow_server.handler.handle_DATA

    async def timed(server: Any, session: Any, envelope: Any) -> str:
        arrivals.append(time.monotonic())
        return await original(server, session, envelope)

    slow_server.handler.handle_DATA = timed  # type: ignore[method-assign]
    env = worker_environment({"SEND_CHUNK_SIZE": "40"})
    beat = start_beat(worker_logs)
    worker = start_worker(worker_logs, concurrency=2, env=env)
    try:
        start_campaign(campaign=campaign)
        wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=120)
    finally:
        worker.stop()
        beat.stop()

    assert len(arrivals) == 150
    arrivals.sort()
    overall = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
    assert overall <= rate * 1.10, f"{overall:.1f}/s over a limit of {rate}/s"
    assert _max_in_window(arrivals, 2.0) <= rate * 2 * 1.10 + 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_with_fifty_connections_in_flight_loses_nobody(
    smtpd: RunningSmtpServer, clean_redis: None, worker_logs: Path
) -> None:
    """The documented bound: duplicates only among the messages that were on
    the wire at the kill (at most one per connection the worker held) or
    answered since the chunk's last gate call (at most one admission batch)."""
    handler = smtpd.handler
    handler.offer_pipelining = True
    handler.data_delay = 0.5  # every message stays in flight half a second
    news = make_list()
    add_audience(news, 800)
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd, connections=50))

    beat = start_beat(worker_logs)
    first = start_worker(worker_logs, concurrency=1)
    try:
        start_campaign(campaign=campaign)
        wait_until(lambda: handler.in_data >= 40 and len(handler.messages) >= 50,
                   what="fifty connections in flight")  # fmt: skip
        in_flight_at_kill = handler.in_data
        first.kill()  # SIGKILL, mid-chunk, with its connections in flight
        handler.data_delay = 0.0
        second = start_worker(worker_logs, concurrency=2)
        try:
            wait_for_status(campaign, {Campaign.Status.FINISHED}, timeout=120)
        finally:
            second.stop()
    finally:
        first.stop()
        beat.stop()

    received = handler.recipients()
    assert set(received) == {f"reader{i}@example.org" for i in range(800)}, "nobody lost"
    duplicates = sum(count - 1 for count in received.values())
    assert duplicates <= 50 + ADMIT_BATCH, (
        f"{duplicates} duplicates, {in_flight_at_kill} in flight at the kill"
    )
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 800


def _job(number: int) -> Job:
    prepared = PreparedMessage(
        envelope_from="bounces@postino.example.com", message_id=f"<{number}@postino.example.com>",
        from_header="news@postino.example.com", to_header=f"reader{number}@example.org",
        recipient=f"reader{number}@example.org", reply_to="", subject="Hi", html="", text="",
        headers=[],
    )  # fmt: skip
    return Job(number, prepared, MESSAGE)


def _carry_all(transmitter: Transmitter, count: int) -> list[Done]:
    done: list[Done] = []
    deadline = time.monotonic() + 30
    while len(done) < count and time.monotonic() < deadline:
        done += [e for e in transmitter.collect(timeout=0.2) if isinstance(e, Done)]
    return done


@pytest.mark.django_db
def test_a_shrunk_share_closes_the_surplus_connections_and_frees_their_slots(
    slow_server: RunningSmtpServer, clean_redis: None
) -> None:
    channel = SmtpChannel(make_smtp_server(slow_server, connections=4))
    transmitter = Transmitter(channel, max_lanes=4)
    try:
        for number in range(8):
            transmitter.submit(_job(number))
        assert all(
            d.result and d.result.outcome is Outcome.SENT for d in _carry_all(transmitter, 8)
        )
        assert transmitter.most_lanes == 4

        transmitter.resize(1)  # another chunk started on this server
        for number in range(8, 12):
            transmitter.submit(_job(number))
        assert len(_carry_all(transmitter, 4)) == 4
        # Freed at once, not when the pool would reap idle connections (10 s).
        wait_until(lambda: channel.slots.in_use() == 1, timeout=3, what="three slots freed")
    finally:
        transmitter.close()
    assert POOL.idle_count(channel.cfg) == 1, "the one lane left kept its connection"
    POOL.close_all()
    assert len(slow_server.handler.messages) == 12
