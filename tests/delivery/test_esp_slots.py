"""An ESP channel's ``max_connections`` is a cap on API calls in flight across
every worker. Two chunks run side by side (each in its own thread, as two
worker processes would, with its own database connection); only the ESP's
HTTP API is faked, and the fake counts how many calls it holds at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from delivery.models import Delivery
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.slots import ConnectionSlots
from tests.support.esp import install_fake_api, postmark_ok
from tests.support.factories import esp_campaign

pytestmark = pytest.mark.django_db(transaction=True)

DEADLINE_SECONDS = 30.0


class CountingEsp:
    """Postmark that holds its first call open until a second call arrives or
    the other chunk has given up, so an unenforced cap shows as two in flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.in_flight = 0
        self.most_in_flight = 0
        self.first_call_started = threading.Event()
        self.second_call_arrived = threading.Event()
        self.other_chunk_done = threading.Event()

    def respond(self, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            first = not self.first_call_started.is_set()
            self.first_call_started.set()
            if self.in_flight > 1:
                self.second_call_arrived.set()
        try:
            if first:
                deadline = time.monotonic() + DEADLINE_SECONDS
                while time.monotonic() < deadline and not (
                    self.second_call_arrived.is_set() or self.other_chunk_done.is_set()
                ):
                    self.other_chunk_done.wait(0.05)
            return postmark_ok(payload)
        finally:
            with self._lock:
                self.in_flight -= 1


def in_thread(target: Callable[[], object]) -> threading.Thread:
    def run() -> None:
        try:
            target()
        finally:
            connection.close()  # each thread opened its own

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_one_connection_means_one_api_call_in_flight_across_chunks_and_no_one_is_lost(
    monkeypatch: pytest.MonkeyPatch, settings: Any, clean_redis: None
) -> None:
    monkeypatch.setitem(settings.POSTINO, "CHUNK_SIZE", 3)
    esp = CountingEsp()
    api = install_fake_api(monkeypatch, esp.respond)
    campaign = esp_campaign("postmark", {"server_token": "pm-token"}, 6, max_connections=1)

    first = in_thread(lambda: run_chunk(campaign.pk))
    assert esp.first_call_started.wait(DEADLINE_SECONDS)

    def second_chunk() -> None:
        try:
            run_chunk(campaign.pk)
        finally:
            esp.other_chunk_done.set()

    second = in_thread(second_chunk)
    second.join(DEADLINE_SECONDS)
    first.join(DEADLINE_SECONDS)
    assert not first.is_alive() and not second.is_alive()

    assert esp.most_in_flight == 1
    # The chunk that found no slot gave its rows back, unattempted, for later.
    waiting = Delivery.objects.filter(campaign=campaign, status="pending")
    assert waiting.count() == 3
    assert {(row.attempts, row.next_attempt_at is not None) for row in waiting} == {(0, True)}
    assert not Delivery.objects.filter(campaign=campaign, status="failed").exists()

    # Later chunks (as the tick would run them) send the rest, once each.
    deadline = time.monotonic() + DEADLINE_SECONDS
    while Delivery.objects.filter(campaign=campaign, status="sent").count() < 6:
        assert time.monotonic() < deadline, "the deferred rows were never sent"
        run_chunk(campaign.pk)
        time.sleep(0.1)
    recipients = [call["payload"]["To"] for call in api.calls]
    assert len(recipients) == 6 and len(set(recipients)) == 6
    assert esp.most_in_flight == 1
    assert campaign.smtp_server is not None
    assert ConnectionSlots(campaign.smtp_server.pk, 1).in_use() == 0, "slot released on close"


def test_chunks_share_the_slots_up_to_max_connections(
    monkeypatch: pytest.MonkeyPatch, settings: Any, clean_redis: None
) -> None:
    monkeypatch.setitem(settings.POSTINO, "CHUNK_SIZE", 3)
    esp = CountingEsp()
    install_fake_api(monkeypatch, esp.respond)
    # Three calls in flight allowed; chunks take two, leaving one for
    # transactional mail (TX_RESERVED_CONNECTIONS).
    campaign = esp_campaign("postmark", {"server_token": "pm-token"}, 6, max_connections=3)

    first = in_thread(lambda: run_chunk(campaign.pk))
    assert esp.first_call_started.wait(DEADLINE_SECONDS)
    run_chunk(campaign.pk)  # a second chunk, with the first's call still open
    esp.other_chunk_done.set()
    first.join(DEADLINE_SECONDS)
    assert not first.is_alive()

    assert esp.most_in_flight == 2
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 6
