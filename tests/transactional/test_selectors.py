"""The reads behind the pages: cursors, header blocks, a template's figures."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from transactional import selectors
from transactional.models import TxMessage, TxTemplate


def test_a_cursor_names_its_instant_to_the_microsecond() -> None:
    moment = datetime(2026, 12, 3, 13, 20, 39, 123457, tzinfo=UTC)
    row = TxMessage(pk=42, created_at=moment)
    assert selectors.decode_cursor(selectors.encode_cursor(row)) == (moment, 42)


@pytest.mark.parametrize("junk", ["", "x-1", "1-", "-5", "99999999999999999999999-1", "1.5-2"])
def test_a_junk_cursor_means_the_first_page(junk: str) -> None:
    assert selectors.decode_cursor(junk) is None


def test_the_header_block_ends_at_the_first_blank_line() -> None:
    assert selectors.split_headers(b"A: 1\r\nB: 2\r\n\r\nbody\r\n\r\nmore") == ("A: 1\nB: 2", False)
    assert selectors.split_headers(b"A: 1\n\nbody") == ("A: 1", False)
    assert selectors.split_headers(b"A: \xff") == ("A: \ufffd", True)


@pytest.mark.django_db
def test_a_template_with_nothing_sent_has_no_bounce_rate() -> None:
    template = TxTemplate.objects.create(name="Quiet", subject="s", html="<p>h</p>")
    TxMessage.objects.create(source="api", email="a@example.com", template=template)
    figures = selectors.template_figures(template, days=7)
    assert len(figures.dates) == 7
    assert (figures.sent, figures.waiting, figures.bounce_rate) == (0, 1, None)
    # Not tracked: no figure, rather than a zero that reads as "nobody opened it".
    assert (figures.opened, figures.clicked, figures.open_rate) == (None, None, None)
    assert figures.per_day["queued"][-1] == 1
