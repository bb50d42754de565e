from __future__ import annotations

import pytest

from delivery import verp
from subscribers.tokens import InvalidToken, Purpose, make_token, read_token


def test_a_subscriber_link_token_round_trips() -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=42, campaign_id=7)
    link = read_token(Purpose.UNSUBSCRIBE, token)
    assert (link.subscriber_id, link.campaign_id) == (42, 7)


def test_a_token_without_campaign_round_trips() -> None:
    token = make_token(Purpose.PREFERENCES, subscriber_id=5)
    assert read_token(Purpose.PREFERENCES, token).campaign_id is None


@pytest.mark.parametrize("position", [0, 3, -1, -5])
def test_a_tampered_token_is_rejected(position: int) -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=42, campaign_id=7)
    chars = list(token)
    chars[position] = "A" if chars[position] != "A" else "B"
    with pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, "".join(chars))


def test_a_token_for_another_purpose_is_rejected() -> None:
    token = make_token(Purpose.WEBVIEW, subscriber_id=42, campaign_id=7)
    with pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, token)


def test_a_token_for_another_subscriber_cannot_be_forged() -> None:
    token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=42, campaign_id=7)
    forged = token.replace("2a-7", "2b-7", 1)
    with pytest.raises(InvalidToken):
        read_token(Purpose.UNSUBSCRIBE, forged)


def test_verp_addresses_identify_the_delivery() -> None:
    address = verp.envelope_sender(123456)
    assert address.startswith("bounces+") and address.endswith("@postino.example.com")
    assert verp.parse_envelope_recipient(address) == 123456
    assert verp.parse_envelope_recipient(address.upper()) == 123456


def test_verp_tokens_cannot_be_forged() -> None:
    token = verp.make_token(1000)
    forged = f"{1001:x}-{token.split('-')[1]}"
    assert verp.read_token(forged) is None
    assert verp.parse_envelope_recipient("someone@example.com") is None
    assert verp.parse_envelope_recipient("bounces+zz-nothex@postino.example.com") is None
