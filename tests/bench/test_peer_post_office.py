"""The bench's django-post-office peer really sends: every queued message
reaches a real SMTP server once, personalised, as text and HTML; and its
report sets Postino's unsigned figure against it."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bench.peer_post_office import PeerRun, measure_post_office, peer_database_url, report_peer
from bench.send_throughput import Run
from tests.support.certs import CertificateFiles
from tests.support.smtpd import smtp_server

ROOT = Path(__file__).resolve().parents[2]
COUNT = 20


def test_every_queued_message_reaches_the_server_once_personalised(
    certificates: CertificateFiles,
) -> None:
    # Named after the suite's database, so two checkouts' runs never share it.
    suite_database = urlsplit(os.environ["DATABASE_URL"]).path.lstrip("/")
    newsletter = (ROOT / "bench" / "newsletter.html").read_text()

    with smtp_server(certificates, plain=True, require_auth=False) as server:
        run = measure_post_office(
            port=server.port,
            count=COUNT,
            html=newsletter,
            threads=2,
            database_url=peer_database_url(f"{suite_database}_post_office"),
        )
        received = list(server.handler.messages)

    assert run.sent == COUNT
    assert run.rate > 0
    assert Counter(r for m in received for r in m.rcpt_tos) == Counter(
        f"peer-{n}@example.org" for n in range(COUNT)
    )
    seventh = next(m for m in received if m.rcpt_tos == ("peer-7@example.org",)).parsed()
    assert seventh["Subject"] == "News for Reader 7"
    assert seventh["To"] == "Reader 7 <peer-7@example.org>"
    assert seventh["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert seventh.get_content_type() == "multipart/alternative"
    text = seventh.get_body(("plain",))
    html = seventh.get_body(("html",))
    assert text is not None and html is not None
    assert "Hello Reader 7," in text.get_content()
    page = " ".join(html.get_content().split())
    assert "<h1>Hello Reader 7,</h1>" in page
    assert "Reader number 7, thank you" in page


def test_postino_is_reported_ahead_only_where_its_unsigned_figure_beats_post_office(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def peer(sent: int, elapsed: float) -> PeerRun:
        return PeerRun(
            sent=sent, elapsed=elapsed + 1.0, startup=1.0, message_size=4500,
            processes=2, threads=5,
        )  # fmt: skip

    def postino(label: str, sent: int, elapsed: float) -> Run:
        return Run(label=label, workers=2, sent=sent, elapsed=elapsed, stages={})

    report_peer(
        # post-office: 250 msg/s on loopback, 75 over the link.
        {"loopback": peer(1000, 4.0), "20 ms away": peer(300, 4.0)},
        [
            postino("loopback, signed", 1000, 2.0),
            postino("loopback, unsigned", 1000, 1.0),
            postino("20 ms away, signed", 100, 2.0),
            postino("20 ms away, unsigned", 100, 2.0),
        ],
    )

    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert "Postino, 2 workers      500.0 signed, 1000.0 unsigned msg/s" in lines
    assert "Postino ahead: MET (unsigned, 4.00x post-office)" in lines
    assert "Postino, 2 workers      50.0 signed, 50.0 unsigned msg/s" in lines
    assert "Postino ahead: NOT MET (unsigned, 0.67x post-office)" in lines
