"""Build outgoing messages as bytes, fast.

``email.message.EmailMessage(...).as_bytes()`` costs milliseconds per message
(policy machinery, generator, header folding), several times the template
render. Our messages always have the same shape (multipart/alternative with a
UTF-8 text and HTML part), so we assemble them directly: quoted-printable via
the C-implemented ``binascii.b2a_qp``, RFC 2047 encoded words only for headers
that need them. Line endings are CRLF throughout.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import formatdate, getaddresses

CRLF = b"\r\n"
_MAX_ENCODED_WORD_BYTES = 45  # 45 bytes → 60 base64 chars → 72 with the wrapper


def _is_ascii(value: str) -> bool:
    return value.isascii()


def encode_header_text(value: str) -> str:
    """Unstructured header text (Subject): RFC 2047 when not plain ASCII."""
    value = value.replace("\r", " ").replace("\n", " ")
    if _is_ascii(value):
        return value
    words: list[bytes] = []
    chunk = b""
    for char in value:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _MAX_ENCODED_WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    if chunk:
        words.append(chunk)
    return "\r\n ".join("=?utf-8?b?" + base64.b64encode(word).decode() + "?=" for word in words)


def ascii_address(address: str) -> str:
    """The address with an internationalised domain in its ASCII (IDNA) form,
    so it can go into headers and SMTP commands without SMTPUTF8."""
    local, at, domain = address.rpartition("@")
    if not at or domain.isascii():
        return address
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError:
        return address


def format_address(display_name: str, address: str) -> str:
    """An address header value; the display name quoted or RFC 2047 encoded."""
    address = ascii_address(address)
    display_name = display_name.replace("\r", " ").replace("\n", " ").strip()
    if not display_name:
        return address
    if _is_ascii(display_name):
        escaped = display_name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}" <{address}>'
    return f"{encode_header_text(display_name)} <{address}>"


def format_address_header(value: str) -> str:
    """Re-encode a user-typed 'Name <addr>' list safely for a header."""
    pairs = getaddresses([value])
    return ", ".join(format_address(name, addr) for name, addr in pairs if addr)


def _qp(text: str) -> bytes:
    data = text.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    encoded = binascii.b2a_qp(data, quotetabs=False, istext=True, header=False)
    return encoded.replace(b"\n", CRLF)


def new_message_id(domain: str) -> str:
    return f"<{secrets.token_hex(16)}@{domain}>"


def build_message(
    *,
    from_header: str,
    to_header: str,
    subject: str,
    html: str,
    text: str,
    message_id: str,
    reply_to: str = "",
    extra_headers: Sequence[tuple[str, str]] = (),
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The message as bytes: multipart/alternative (text, HTML), inside a
    multipart/mixed with the attachments when there are any."""
    boundary = "=_postino_" + secrets.token_hex(12)
    headers = [
        ("From", from_header),
        ("To", to_header),
        ("Subject", encode_header_text(subject)),
        ("Date", formatdate(usegmt=True)),
        ("Message-ID", message_id),
        ("MIME-Version", "1.0"),
    ]
    if reply_to:
        headers.append(("Reply-To", reply_to))
    headers.extend(extra_headers)
    alternative = f'multipart/alternative; boundary="{boundary}"'
    mixed = "=_postino_mixed_" + secrets.token_hex(12) if attachments else ""
    if mixed:
        headers.append(("Content-Type", f'multipart/mixed; boundary="{mixed}"'))
    else:
        headers.append(("Content-Type", alternative))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers).encode("utf-8")
    if mixed:
        head += CRLF + f"--{mixed}\r\nContent-Type: {alternative}\r\n".encode()
    sep = b"--" + boundary.encode()
    part_head = b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    return b"".join(
        [
            head,
            CRLF,
            sep,
            CRLF,
            b"Content-Type: text/plain; charset=utf-8\r\n",
            part_head,
            _qp(text),
            CRLF,
            sep,
            CRLF,
            b"Content-Type: text/html; charset=utf-8\r\n",
            part_head,
            _qp(html),
            CRLF,
            sep,
            b"--",
            CRLF,
            *(_attachment_part(mixed, item) for item in attachments),
            f"--{mixed}--\r\n".encode() if mixed else b"",
        ]
    )


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


def _attachment_part(boundary: str, item: Attachment) -> bytes:
    # RFC 2231 names a file with any characters; a plain ASCII name stays readable.
    name = item.filename.replace("\r", " ").replace("\n", " ").replace('"', "'")
    if name.isascii():
        disposition = f'attachment; filename="{name}"'
    else:
        disposition = "attachment; filename*=utf-8''" + urllib.parse.quote(name, safe="")
    encoded = base64.encodebytes(item.content).replace(b"\n", CRLF)
    return b"".join(
        [
            f"--{boundary}\r\n".encode(),
            f"Content-Type: {item.content_type}\r\n".encode(),
            b"Content-Transfer-Encoding: base64\r\n",
            f"Content-Disposition: {disposition}\r\n\r\n".encode(),
            encoded,
        ]
    )
