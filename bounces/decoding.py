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
    # No charset at all: UTF-8, else a guess (``_guess``).
    "unknown-8bit": "",
    "x-unknown": "",
    "unknown": "",
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


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    if not data:
        return ""
    # A byte-order mark outranks the declared charset: Exchange and some
    # gateways send UTF-16 bodies labelled utf-8 or not labelled at all.
    if data[:1] in (b"\xef", b"\xff", b"\xfe", b"\x00"):
        for bom, codec in _BOMS:
            if data.startswith(bom):
                return data.decode(codec, "replace")
    name = (charset or "").strip().strip("\"'").lower()
    if name.startswith(("utf-16", "utf-32", "utf16", "utf32")) and len(data) % 2:
        data = data[:-1]  # a truncated part: keep what decodes
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
    return _guess(data)


# Charsets an undeclared 8-bit text most often is in, for ``_guess``.
_GUESSES = ("cp1252", "koi8-r", "cp1251", "gb18030", "cp932", "euc-kr")
_GUESS_SAMPLE = 4000


def _guess(data: bytes) -> str:
    """Undeclared 8-bit text that is not UTF-8: the candidate charset whose
    decoding reads most like text. Each non-ASCII character scores by what it
    plausibly is in that charset: a CJK character or kana in a double-byte
    charset, a lower-case Cyrillic letter in a word of Cyrillic letters, an
    accented letter inside a Latin word; stray symbols, half-width kana and
    private-use characters count against. Ties keep the earlier candidate:
    Windows-1252 (which decodes any byte) when nothing reads better, and a
    single-byte Cyrillic reading over a double-byte one (short Cyrillic words
    of even length also decode, as rare Chinese, in GBK)."""
    sample = data[:_GUESS_SAMPLE]
    best, best_score = "cp1252", float("-inf")
    for codec in _GUESSES:
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            # A double-byte character cut by the sample's end is no evidence.
            try:
                text = sample[:-1].decode(codec)
            except UnicodeDecodeError:
                continue
        score = _score(text, codec)
        if score > best_score:
            best, best_score = codec, score
    return data.decode(best, "replace")


def _score(text: str, codec: str) -> float:
    score = 0.0
    previous = " "
    length = len(text)
    for index, ch in enumerate(text):
        code = ord(ch)
        if code < 0x80:
            previous = ch
            continue
        following = text[index + 1] if index + 1 < length else " "
        latin_neighbour = (previous.isascii() and previous.isalpha()) or (
            following.isascii() and following.isalpha()
        )
        if 0x4E00 <= code <= 0x9FFF:
            score += 2 if codec != "gb18030" or _in_gb2312(ch) else -1
        elif 0x3040 <= code <= 0x30FF or 0xAC00 <= code <= 0xD7A3:
            score += 2  # kana, hangul
        elif 0x3000 <= code <= 0x303F or 0xFF01 <= code <= 0xFF5E:
            score += 1.5  # CJK punctuation and full-width forms
        elif 0x0430 <= code <= 0x044F or code == 0x0451:
            score += 0 if latin_neighbour else 1
        elif 0x0410 <= code <= 0x042F or code == 0x0401:
            score += 0 if latin_neighbour else 0.5
        elif 0xC0 <= code <= 0x17F and ch.isalpha():
            score += 1 if latin_neighbour else -0.5
        elif code in (0xA0, 0xAB, 0xBB, 0x2013, 0x2014, 0x2019, 0x201C, 0x201D, 0x2026):
            score += 0.5  # spaces, quotes and dashes every language uses
        else:
            score -= 1  # half-width kana, box drawing, symbols, private use
        previous = ch
    return score


def _in_gb2312(ch: str) -> bool:
    """Common Chinese characters are in GB 2312; other text read as GBK lands
    in its rarer extensions."""
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def header_text(value: object, hint: Message | None = None) -> str:
    """A header value as text: RFC 2047 words decoded, raw 8-bit bytes
    (which compat32 keeps as surrogate escapes) decoded as UTF-8, else in
    the charset the message declares (``hint``), else a guess."""
    if value is None:
        return ""
    if isinstance(value, Header):
        # compat32 wraps a header with raw 8-bit bytes in a Header whose str()
        # replaces them with U+FFFD; its chunks still hold the bytes.
        chunks = decode_header(value)
        text = "".join(
            _raw_header_bytes(piece, charset, hint) if isinstance(piece, bytes) else piece
            for piece, charset in chunks
        )
        return " ".join(text.split())
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = _raw_header_bytes(text.encode("utf-8", "surrogateescape"), None, hint)
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


def _raw_header_bytes(data: bytes, charset: str | None, hint: Message | None) -> str:
    if charset and charset.lower() not in ("unknown-8bit", "us-ascii", "ascii"):
        return decode_bytes(data, charset)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    return decode_bytes(data, declared_charset(hint) if hint is not None else None)


def declared_charset(msg: Message) -> str | None:
    """The charset the message declares: its own Content-Type's, or for a
    multipart message its first text part's (raw 8-bit headers are almost
    always in the charset of the body their mailer wrote)."""
    for count, part in enumerate(msg.walk()):
        if count > 8:
            break
        charset = part.get_content_charset()
        if charset:
            return charset
    return None


def header(msg: Message, name: str) -> str:
    return header_text(msg.get(name), msg)


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
        # raw_items: the values as parsed, with 8-bit bytes still in them
        # (items() would turn a UTF-8 Diagnostic-Code into U+FFFD).
        lines = [f"{key}: {value}" for key, value in sub.raw_items()]
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
