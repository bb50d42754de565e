"""Reading RFC 3464 fields: lenient on case, folding, brackets and separators."""

from __future__ import annotations

from bounces.dsn import address_from_field, parse_delivery_status, parse_field_blocks


def test_blocks_are_split_on_blank_lines_and_names_are_lower_cased() -> None:
    text = (
        "Reporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; a@example.com\nACTION: failed\n"
    )
    assert parse_field_blocks(text) == [
        {"reporting-mta": "dns; mx.example"},
        {"final-recipient": "rfc822; a@example.com", "action": "failed"},
    ]


def test_folded_values_are_unfolded() -> None:
    blocks = parse_field_blocks("Diagnostic-Code: smtp; 550 5.1.1 user\n    unknown here\n")
    assert blocks == [{"diagnostic-code": "smtp; 550 5.1.1 user unknown here"}]


def test_recipients_without_a_blank_line_between_them_are_still_separate() -> None:
    text = (
        "Final-Recipient: rfc822; a@example.com\nAction: failed\nStatus: 5.1.1\n"
        "Final-Recipient: rfc822; b@example.com\nAction: delayed\nStatus: 4.2.2\n"
    )
    report = parse_delivery_status(text)
    assert [(r.email, r.kind) for r in report.recipients] == [
        ("a@example.com", "hard"),
        ("b@example.com", "delay"),
    ]


def test_every_spelling_of_an_rfc822_address_is_read() -> None:
    for value in (
        "rfc822; a@example.com",
        "RFC822;a@example.com",
        "rfc822 ;<A@Example.COM>",
        "<a@example.com>",
        "a@example.com",
        'rfc822; "a@example.com"',
    ):
        assert address_from_field(value) == "a@example.com", value


def test_utf8_addresses_are_decoded() -> None:
    assert address_from_field("utf-8; j\\x{00F6}rg@example.com") == "jörg@example.com"


def test_a_field_without_an_address_gives_none() -> None:
    assert address_from_field("x400; /c=de/admd=x/") is None
    assert address_from_field("") is None


def test_status_field_comments_are_ignored_and_a_generic_status_gives_way_to_the_reply() -> None:
    text = (
        "Final-Recipient: rfc822; a@example.com\nAction: failed\n"
        "Status: 5.0.0 (permanent failure)\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <a@example.com>... User unknown\n"
        "Remote-MTA: dns; mx.example.com\n"
    )
    (recipient,) = parse_delivery_status(text).recipients
    assert recipient.status == "5.1.1"
    assert recipient.diagnostic == "550 5.1.1 <a@example.com>... User unknown"
    assert recipient.remote_mta == "mx.example.com"
    assert recipient.action == "failed"


def test_delivered_relayed_and_expanded_are_not_bounces() -> None:
    for action in ("delivered", "relayed", "expanded"):
        text = f"Final-Recipient: rfc822; a@example.com\nAction: {action}\nStatus: 2.0.0\n"
        (recipient,) = parse_delivery_status(text).recipients
        assert recipient.kind == "not_bounce"


def test_a_missing_action_is_inferred_from_the_status_class() -> None:
    text = "Final-Recipient: rfc822; a@example.com\nStatus: 4.4.1\n"
    (recipient,) = parse_delivery_status(text).recipients
    assert (recipient.action, recipient.kind) == ("delayed", "delay")


def test_original_recipient_is_kept_when_it_differs() -> None:
    text = (
        "Original-Recipient: rfc822; alias@example.com\n"
        "Final-Recipient: rfc822; real@example.net\nAction: failed\nStatus: 5.1.1\n"
    )
    (recipient,) = parse_delivery_status(text).recipients
    assert recipient.email == "real@example.net"
    assert recipient.original_recipient == "alias@example.com"
