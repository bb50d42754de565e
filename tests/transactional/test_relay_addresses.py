"""The relay parses MAIL and RCPT addresses exactly as aiosmtpd does
(``RelaySMTP._getaddr`` replaces aiosmtpd's for its cost, not its answers)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from aiosmtpd.smtp import SMTP

from transactional.relay import RelaySMTP

ARGUMENTS = [
    "",
    "<>",
    "<ada@example.com>",
    "ada@example.com",
    "  <ada@example.com>",
    "<ada@example.com> SIZE=4096 BODY=8BITMIME",
    "ada@example.com SIZE=10",
    '<"ada lovelace"@example.com>',
    "<ada@[192.0.2.1]>",
    "<ada@example.com",
    "<@relay.example:ada@example.com>",
    "not an address",
    "<a" + "x" * 70 + "@example.com>",
    "a" + "x" * 70 + "@example.com",
    "<ada.@example.com>",
    "<>x",
]


@pytest.mark.parametrize("limit", [0, 64])
@pytest.mark.parametrize("argument", ARGUMENTS)
def test_the_relay_reads_each_address_as_aiosmtpd(argument: str, limit: int) -> None:
    server = SimpleNamespace(local_part_limit=limit)
    assert RelaySMTP._getaddr(server, argument) == SMTP._getaddr(server, argument)  # type: ignore[arg-type]
