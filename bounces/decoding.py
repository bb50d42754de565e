"""Turning whatever arrived into text: line endings, charsets, encoded words.

Bounces are written by every kind of software, so nothing here trusts a
declared charset or transfer encoding: unknown charsets fall back to UTF-8 and
then Windows-1252 (which decodes any byte), and broken base64 degrades to the
raw text instead of raising.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import quopri
import re
from email.header import Header, decode_header
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from typing import Any

# Declared names that Python does not know, or knows as a smaller charset
# than the mailer really used.
_CHARSET_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cn-gb": "gb18030",
    "euc-cn": "gb18030",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "iso-8859-8-i": "iso-8859-8",
    "iso-8859-1": "cp1252",  # what Windows mailers really mean by it
    "latin1": "cp1252",
    "us-ascii": "utf-8",  # 8-bit bytes in "ascii" parts are usually UTF-8
    "ascii": "utf-8",
    "ansi_x3.4-1968": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
    "unknown": "utf-8",
    "8bit": "utf-8",
    "utf8": "utf-8",
    "x-user-defined": "cp1252",
}


def normalise_newlines(raw: bytes) -> bytes:
    """CRLF and lone CR become LF, so the parser and our patterns see one form."""
    if b"\r" not in raw:
        return raw
    return raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def parse_bytes(raw: bytes) -> Message:
    # compat32 is several times faster than the modern policy and never
    # raises on malformed headers; we decode values ourselves.
    return email.message_from_bytes(raw, policy=compat32)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    if not data:
        return ""
    name = (charset or "").strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if name:
        try:
            codecs.lookup(name)
        except LookupError:
            name = ""
    if name and name != "utf-8":
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if name and name != "utf-8":
        return data.decode(name, "replace")
    if b"\x1b$" in data or b"\x1b(" in data:
        try:
            return data.decode("iso-2022-jp")
        except UnicodeDecodeError:
            pass
    return data.decode("cp1252", "replace")


def header_text(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit bytes
    (which compat32 keeps as surrogate escapes) decoded as UTF-8 or 1252."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 wraps a header with raw 8-bit bytes in a Header whose str()
        # replaces them with U+FFFD; its chunks still hold the bytes.
        chunks = decode_header(value)
        text = "".join(
            decode_bytes(piece, charset) if isinstance(piece, bytes) else piece
            for piece, charset in chunks
        )
        return " ".join(text.split())
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = decode_bytes(text.encode("utf-8", "surrogateescape"))
    if "=?" not in text:
        return " ".join(text.split())
    try:
        pieces = decode_header(text)
    except (ValueError, LookupError, UnicodeError):  # malformed encoded words: keep the raw
        return " ".join(text.split())
    out = []
    for piece, charset in pieces:
        out.append(decode_bytes(piece, charset) if isinstance(piece, bytes) else piece)
    # decode_header drops the whitespace between encoded and plain words.
    return " ".join("".join(out).split()) if len(out) == 1 else " ".join(" ".join(out).split())


def header(msg: Message, name: str) -> str:
    return header_text(msg.get(name))


def payload_bytes(part: Message) -> bytes:
    """The decoded body of a non-multipart part, tolerating bad encodings."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return _list_payload_bytes(part, payload)
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte not in ("base64", "quoted-printable"):
        # decode=True gives the bytes as received; without it compat32 has
        # already (mis)decoded 8-bit text with the declared charset.
        data = part.get_payload(decode=True)
        return data if isinstance(data, bytes) else b""
    raw = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw) + b"==", validate=False)
        except (binascii.Error, ValueError):
            return raw
    if cte == "quoted-printable":
        return quopri.decodestring(raw)
    return raw


def _list_payload_bytes(part: Message, payload: list[Any]) -> bytes:
    """compat32 parses message/delivery-status (and message/*) bodies into
    header blocks; put the text back together (and decode it if the mailer
    encoded it, in which case the blocks are garbage)."""
    blocks = []
    for sub in payload:
        lines = [f"{key}: {value}" for key, value in sub.items()]
        body = sub.get_payload()
        if isinstance(body, str) and body.strip():
            lines.append(body)
        blocks.append("\n".join(lines))
    raw = "\n\n".join(blocks).encode("utf-8", "surrogateescape")
    cte = str(part.get("content-transfer-encoding", "")).strip().lower()
    if cte == "base64":
        try:
            return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", raw) + b"==")
        except (binascii.Error, ValueError):
            return raw
    if cte == "quoted-printable":
        return quopri.decodestring(raw)
    return raw


def part_text(part: Message) -> str:
    text = decode_bytes(payload_bytes(part), part.get_content_charset())
    if part.get_content_subtype() == "html":
        text = html_to_text(text)
    return text


_BREAK = re.compile(r"<(?:br|/p|/div|/tr|/li|/h\d|p|div|tr)\b[^>]*>", re.IGNORECASE)


def html_to_text(html: str) -> str:
    import html as html_module

    # Keep <addresses> that are not tags: only strip things that look like tags.
    text = _BREAK.sub("\n", html)
    text = re.sub(r"<(?![A-Za-z0-9._%+-]+@)[^>]*>", " ", _strip_blocks(text))
    return html_module.unescape(text)


def _strip_blocks(text: str) -> str:
    return re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.IGNORECASE | re.DOTALL)


def parse_headers(text: str) -> Message:
    return HeaderParser(policy=compat32).parsestr(text, headersonly=True)
