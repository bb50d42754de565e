"""Our signatures verify with an independent verifier (dkimpy), and break on tampering."""

from __future__ import annotations

import re

import dkim as dkimpy
import pytest

from delivery import dkim
from delivery.mime import build_message, new_message_id
from delivery.models import SendingDomain
from tests.dkim.conftest import keys_of, serve_dns

pytestmark = pytest.mark.django_db

UNSUBSCRIBE = [
    (
        "List-Unsubscribe",
        "<https://postino.example.com/u/abc/>, <mailto:unsubscribe+abc@b.example>",
    ),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
]


def newsletter(domain: str, **overrides: str) -> bytes:
    fields = {
        "from_header": f'"Spring News" <news@{domain}>',
        "to_header": "Reader <reader@example.org>",
        "subject": "Spring news",
        "html": "<p>Hello reader</p>",
        "text": "Hello reader",
        "message_id": new_message_id(domain),
    }
    fields.update(overrides)
    return build_message(
        extra_headers=UNSUBSCRIBE,
        from_header=fields["from_header"],
        to_header=fields["to_header"],
        subject=fields["subject"],
        html=fields["html"],
        text=fields["text"],
        message_id=fields["message_id"],
        reply_to=fields.get("reply_to", ""),
    )


def verifies(message: bytes, *sending_domains: SendingDomain) -> list[bool]:
    """The result of each DKIM-Signature in the message, top to bottom."""
    count = message.count(b"DKIM-Signature:")
    checker = dkimpy.DKIM(message)
    dnsfunc = serve_dns(*sending_domains)
    results = []
    for i in range(count):
        try:
            results.append(bool(checker.verify(idx=i, dnsfunc=dnsfunc)))
        except dkimpy.DKIMException:  # e.g. "body hash mismatch"
            results.append(False)
    return results


def signature_headers(message: bytes) -> list[str]:
    head = message.split(b"\r\n\r\n", 1)[0].decode()
    return re.findall(r"^DKIM-Signature:.*?(?=\r\n\S)", head, flags=re.M | re.S)


def test_an_rsa_signature_verifies(rsa_only: SendingDomain) -> None:
    signed = dkim.sign(newsletter("rsa.example.com"), keys_of(rsa_only))
    assert verifies(signed, rsa_only) == [True]
    assert dkimpy.verify(signed, dnsfunc=serve_dns(rsa_only))


def test_an_ed25519_signature_verifies(ed25519_only: SendingDomain) -> None:
    signed = dkim.sign(newsletter("ed.example.com"), keys_of(ed25519_only))
    assert "a=ed25519-sha256" in signature_headers(signed)[0]
    assert verifies(signed, ed25519_only) == [True]


def test_both_keys_sign_at_once_and_both_signatures_verify(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    first, second = signature_headers(signed)
    assert "a=rsa-sha256" in first and "s=postino;" in first
    assert "a=ed25519-sha256" in second and "s=postino-ed;" in second
    assert verifies(signed, both_keys) == [True, True]


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"subject": "Frühlingsnachrichten für Sie: ça va? 🌸 " * 4}, id="non-ascii"),
        pytest.param({"subject": "A very long subject line " * 12}, id="long-subject"),
        pytest.param(
            {"to_header": ", ".join(f"Reader {i} <reader{i}@example.org>" for i in range(12))},
            id="long-to",
        ),
        pytest.param(
            {"text": "Trailing spaces   \nand tabs\t\t\n\n\n\n", "html": "<p>x</p>  \n\n  \n"},
            id="trailing-whitespace-and-blank-lines",
        ),
        pytest.param({"reply_to": "Desk <desk@example.net>"}, id="reply-to"),
        pytest.param({"text": "", "html": ""}, id="empty-parts"),
    ],
)
def test_messages_we_build_verify(both_keys: SendingDomain, overrides: dict[str, str]) -> None:
    signed = dkim.sign(newsletter("news.example.com", **overrides), keys_of(both_keys))
    assert verifies(signed, both_keys) == [True, True]


def test_reply_to_is_signed_only_when_present(rsa_only: SendingDomain) -> None:
    without = signature_headers(dkim.sign(newsletter("rsa.example.com"), keys_of(rsa_only)))[0]
    with_it = signature_headers(
        dkim.sign(newsletter("rsa.example.com", reply_to="d@example.net"), keys_of(rsa_only))
    )[0]
    assert "reply-to" not in without
    assert "reply-to" in with_it


def test_the_signature_covers_the_headers_that_matter(rsa_only: SendingDomain) -> None:
    header = signature_headers(dkim.sign(newsletter("rsa.example.com"), keys_of(rsa_only)))[0]
    h_tag = re.search(r"h=([^;]*);", header)
    assert h_tag is not None
    names = [n.strip() for n in h_tag.group(1).replace("\r\n", "").split(":")]
    assert names == [
        "from",
        "from",
        "to",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "list-unsubscribe",
        "list-unsubscribe-post",
    ]
    assert re.search(r"\bt=\d{10};", header)


def test_signature_lines_stay_within_78_characters(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    for header in signature_headers(signed):
        assert all(len(line) <= 78 for line in header.split("\r\n")), header


def test_a_raw_message_with_odd_whitespace_and_bare_newlines_verifies(
    both_keys: SendingDomain,
) -> None:
    raw = (
        b"FROM:  News <news@news.example.com>  \n"
        b"Subject:\tHello\n\t  folded   world  \n"
        b"To: reader@example.org\n"
        b"\n"
        b"Line with trailing spaces   \n"
        b"\tTabbed\t\tline\n"
        b"\n\n   \n"
    )
    signed = dkim.sign(raw, keys_of(both_keys))
    assert b"\n" not in signed.replace(b"\r\n", b"")
    assert verifies(signed, both_keys) == [True, True]


def test_relaxed_signatures_survive_a_relay_refolding_headers(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    refolded = signed.replace(b"Subject: Spring news", b"SUBJECT:   Spring\r\n\t news")
    assert verifies(refolded, both_keys) == [True, True]


def test_a_changed_subject_fails_verification(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    tampered = signed.replace(b"Subject: Spring news", b"Subject: Spring sale")
    assert verifies(tampered, both_keys) == [False, False]
    assert dkimpy.verify(tampered, dnsfunc=serve_dns(both_keys)) is False


def test_a_changed_body_fails_verification(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    tampered = signed.replace(b"Hello reader", b"Hello victim")
    assert verifies(tampered, both_keys) == [False, False]
    assert dkimpy.verify(tampered, dnsfunc=serve_dns(both_keys)) is False


def test_an_added_from_header_fails_verification(both_keys: SendingDomain) -> None:
    signed = dkim.sign(newsletter("news.example.com"), keys_of(both_keys))
    head, body = signed.split(b"\r\n\r\n", 1)
    tampered = head + b"\r\nFrom: Bank <security@bank.example>\r\n\r\n" + body
    assert verifies(tampered, both_keys) == [False, False]


def test_a_signature_from_the_wrong_key_fails(both_keys: SendingDomain) -> None:
    impostor = dkim.DkimKey("news.example.com", "postino", dkim.RSA, dkim.generate_rsa())
    signed = dkim.sign(newsletter("news.example.com"), [impostor])
    assert verifies(signed, both_keys) == [False]


def test_without_keys_the_message_is_unchanged() -> None:
    message = newsletter("example.com")
    assert dkim.sign(message, []) is message
