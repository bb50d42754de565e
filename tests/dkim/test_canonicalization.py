"""Relaxed canonicalization (RFC 6376 §3.4.2, §3.4.4) on hand-worked examples."""

from __future__ import annotations

import base64
import hashlib
import random
import re

from delivery.dkim import parse_headers, relaxed_body, relaxed_header, split_message


def test_a_header_name_is_lower_cased_and_loses_the_spaces_around_its_colon() -> None:
    assert relaxed_header(b"SUBJect \t", b"  Spring news") == b"subject:Spring news\r\n"


def test_a_folded_header_is_unfolded_and_its_whitespace_squashed() -> None:
    value = b" Hello \t  there,\r\n\t  dear\r\n   reader \t "
    assert relaxed_header(b"Subject", value) == b"subject:Hello there, dear reader\r\n"


def test_an_empty_header_value_keeps_its_colon() -> None:
    assert relaxed_header(b"X-Empty", b"   ") == b"x-empty:\r\n"


def test_whitespace_at_line_ends_is_dropped_and_runs_become_one_space() -> None:
    body = b"Hi  there \r\n\tindented\t\r\nsame\t \tline\r\n"
    assert relaxed_body(body) == b"Hi there\r\n indented\r\nsame line\r\n"


def test_trailing_empty_lines_go_even_when_they_held_whitespace() -> None:
    body = b"Last words\r\n\r\n \t \r\n\r\n  "
    assert relaxed_body(body) == b"Last words\r\n"


def test_a_body_without_a_final_line_break_gets_one() -> None:
    assert relaxed_body(b"no newline   ") == b"no newline\r\n"


def test_inner_empty_lines_are_kept() -> None:
    assert relaxed_body(b"a\r\n\r\n\r\nb\r\n") == b"a\r\n\r\n\r\nb\r\n"


def test_an_empty_body_hashes_as_the_empty_string() -> None:
    # Relaxed, unlike simple, turns an empty body into nothing at all (not CRLF).
    for body in (b"", b"\r\n", b"\r\n\r\n", b"  \r\n\t\r\n"):
        assert relaxed_body(body) == b""
    digest = base64.b64encode(hashlib.sha256(relaxed_body(b"\r\n")).digest()).decode()
    assert digest == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="


def test_a_message_splits_at_its_first_empty_line() -> None:
    head, body = split_message(b"From: a@example.com\r\nTo: b@example.com\r\n\r\nHi\r\n\r\nBye\r\n")
    assert head == b"From: a@example.com\r\nTo: b@example.com\r\n"
    assert body == b"Hi\r\n\r\nBye\r\n"


def test_continuation_lines_stay_with_their_header() -> None:
    fields = parse_headers(b"Subject: one\r\n two\r\nTo: x@example.com\r\n")
    assert fields == [(b"Subject", b" one\r\n two"), (b"To", b" x@example.com")]


def literal_relaxed_body(body: bytes) -> bytes:
    """§3.4.4 read literally, line by line: the slow reference for our fast one."""
    lines = body.split(b"\r\n")
    ends_with_crlf = body.endswith(b"\r\n")
    if ends_with_crlf:
        lines.pop()
    lines = [re.sub(rb"[ \t]+", b" ", re.sub(rb"[ \t]+$", b"", line)) for line in lines]
    while lines and lines[-1] == b"":
        lines.pop()
    return b"".join(line + b"\r\n" for line in lines)


def test_the_fast_body_canonicalization_agrees_with_the_literal_reading() -> None:
    rng = random.Random(6376)
    pieces = [b"a", b"bc", b" ", b"  ", b"\t", b" \t ", b"\r\n", b"\r\n\r\n"]
    for _ in range(3000):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 24)))
        assert relaxed_body(body) == literal_relaxed_body(body), body
