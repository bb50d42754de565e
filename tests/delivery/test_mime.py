from __future__ import annotations

from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy

from delivery.mime import build_message, encode_header_text, format_address


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    return message


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None
    # On the wire lines end in CRLF; the parser keeps them.
    return str(part.get_content()).replace("\r\n", "\n")


def build(**overrides: str) -> bytes:
    fields = {
        "from_header": format_address("News", "news@example.com"),
        "to_header": format_address("Ada", "ada@example.org"),
        "subject": "Hello",
        "html": "<p>Hello</p>",
        "text": "Hello\n",
        "message_id": "<abc@example.com>",
    }
    fields.update(overrides)
    return build_message(**fields)  # type: ignore[arg-type]


def test_it_builds_a_multipart_alternative_message_with_both_parts() -> None:
    message = parse(build())
    assert message.get_content_type() == "multipart/alternative"
    assert body(message, "plain") == "Hello\n"
    assert body(message, "html").strip() == "<p>Hello</p>"
    assert message["Message-ID"] == "<abc@example.com>"
    assert message["MIME-Version"] == "1.0"
    assert message["Date"]


def test_every_line_ends_in_crlf_and_stays_short() -> None:
    data = build(html="<p>" + "x" * 5000 + "</p>", text="é" * 3000)
    lines = data.split(b"\r\n")
    assert b"\n" not in b"".join(lines)
    assert max(len(line) for line in lines) <= 998


def test_non_ascii_subject_and_names_round_trip() -> None:
    subject = "Grüße aus Köln — 日本語のお知らせ " * 3
    data = build(subject=subject, to_header=format_address("Zoë Ünal", "zoe@example.org"))
    message = parse(data)
    assert message["Subject"] == subject.replace("\n", " ")
    assert message["To"].addresses[0].display_name == "Zoë Ünal"
    assert data.isascii()


def test_text_and_html_keep_their_unicode_content() -> None:
    message = parse(build(html="<p>naïve café ☕</p>", text="naïve café ☕\n"))
    assert body(message, "plain") == "naïve café ☕\n"
    assert "naïve café ☕" in body(message, "html")


def test_a_subject_cannot_inject_headers() -> None:
    data = build(subject="Hi\r\nBcc: victim@example.com")
    message = parse(data)
    assert message["Bcc"] is None
    assert "Bcc" in message["Subject"]


def test_display_names_with_quotes_are_escaped() -> None:
    value = format_address('Ada "the Countess" Lovelace', "ada@example.org")
    message = parse(build(to_header=value))
    assert message["To"].addresses[0].display_name == 'Ada "the Countess" Lovelace'


def test_encoded_words_are_short_enough() -> None:
    encoded = encode_header_text("ü" * 200)
    assert all(len(part.strip()) <= 75 for part in encoded.split("\r\n"))


def test_an_internationalised_domain_is_written_in_ascii_in_headers() -> None:
    assert format_address("Anna", "anna@bücher.example") == '"Anna" <anna@xn--bcher-kva.example>'
