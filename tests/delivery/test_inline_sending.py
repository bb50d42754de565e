"""A server that answers within a couple of milliseconds (on this machine, or
its network) is sent to from the chunk's own thread: lanes in threads would
only add hand-overs. A farther server gets lanes again."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Campaign
from delivery.models import Delivery
from delivery.pipeline import transmit
from delivery.pipeline.channel import open_channel
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.transmit import sends_inline
from tests.support.factories import (
    add_audience,
    make_campaign,
    make_list,
    make_smtp_server,
    running,
)
from tests.support.smtpd import RunningSmtpServer

pytestmark = pytest.mark.django_db


def running_campaign(smtpd: RunningSmtpServer, count: int) -> Campaign:
    news = make_list()
    add_audience(news, count)
    return running(make_campaign(lists=[news], server=make_smtp_server(smtpd, connections=8)))


def test_a_fast_server_is_sent_to_inline_after_one_chunk_and_a_slow_one_gets_lanes(
    smtpd: RunningSmtpServer, clean_redis: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.POSTINO = {**settings.POSTINO, "CHUNK_SIZE": 40}
    # The test server shares this process (and its interpreter lock) with the
    # chunk, so it answers in milliseconds, not the tenth of one a relay on
    # this machine takes: "near" is drawn higher here, and "far" is 100 ms.
    monkeypatch.setattr(transmit, "INLINE_BELOW_SECONDS", 0.05)
    campaign = running_campaign(smtpd, 120)

    run_chunk(campaign.pk)  # lanes, measuring how fast the server answers
    assert campaign.smtp_server is not None
    assert sends_inline(open_channel(campaign.smtp_server).identity) is True
    smtpd.handler.most_in_data = 0
    run_chunk(campaign.pk)
    assert smtpd.handler.most_in_data == 1, "sent one at a time from the chunk's thread"

    smtpd.handler.data_delay = 0.1  # the same server, now far away
    run_chunk(campaign.pk)  # still inline: this chunk measures the slow answers
    smtpd.handler.most_in_data = 0
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 120
    assert campaign.smtp_server is not None
    identity = open_channel(campaign.smtp_server).identity
    assert sends_inline(identity) is False, "the next chunk uses lanes again"
