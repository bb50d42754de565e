"""Signed tracking URLs, and the HTML and text of a message rewritten to use them.

An open pixel is ``/t/o/<campaign>.<subscriber>.<mac>.gif``; a tracked link is
``/t/c/<campaign>.<subscriber>.<mac>/<url>`` (ids in hex) with the destination
in URL-safe base64. The MAC (``subscribers.tokens.sign``: 128 bits of
HMAC-SHA256, keyed from ``SECRET_KEY`` per purpose) covers the campaign, the
recipient and the destination, so the redirect verifies a link without
touching the database, and a link whose destination was swapped answers 404:
never an open redirect. In privacy mode the recipient is 0.

Only ``http(s)`` links are rewritten; ``mailto:``, ``tel:``, anchors and the
message's own unsubscribe, preferences and web-view links are left alone.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from django.conf import settings

from subscribers import tokens


class InvalidLink(Exception):
    """Tampered, truncated or foreign."""


@dataclass(frozen=True, slots=True)
class Tracked:
    campaign_id: int
    subscriber_id: int | None  # None in privacy mode
    url: str = ""
    # A transactional message's public id (hex), for its links; campaign 0.
    tx_message: str = ""


def _label(purpose: str) -> str:
    return f"postino.track.{purpose}"


def _verify(purpose: str, message: str, mac: str) -> None:
    if not tokens.signed(_label(purpose), message, mac):
        raise InvalidLink("bad signature")


def _ids(campaign_id: int, subscriber_id: int | None) -> str:
    return f"{campaign_id:x}.{subscriber_id or 0:x}"


def open_path(campaign_id: int, subscriber_id: int | None) -> str:
    ids = _ids(campaign_id, subscriber_id)
    return f"/t/o/{ids}.{tokens.sign(_label('open'), ids)}.gif"


def click_path(campaign_id: int, subscriber_id: int | None, url: str) -> str:
    ids = _ids(campaign_id, subscriber_id)
    encoded = base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()
    return f"/t/c/{ids}.{tokens.sign(_label('click'), f'{ids}/{url}')}/{encoded}"


# A transactional message's links: ``x<public id in hex>.<mac>``, signed for
# purposes of their own, so a campaign's token never reads as one.
_TX_ID = re.compile(r"^x([0-9a-f]{32})$")


def tx_open_path(public_id: str) -> str:
    ids = f"x{public_id}"
    return f"/t/o/{ids}.{tokens.sign(_label('txopen'), ids)}.gif"


def tx_click_path(public_id: str, url: str) -> str:
    ids = f"x{public_id}"
    encoded = base64.urlsafe_b64encode(url.encode()).rstrip(b"=").decode()
    return f"/t/c/{ids}.{tokens.sign(_label('txclick'), f'{ids}/{url}')}/{encoded}"


def _read_tx(token: str) -> tuple[str, str, str] | None:
    """(ids, public id, mac) of a transactional message's token, else None."""
    ids, _, mac = token.partition(".")
    found = _TX_ID.match(ids)
    if found is None or "." in mac:
        return None
    return ids, found.group(1), mac


def _read_ids(token: str) -> tuple[str, int, int | None, str]:
    try:
        campaign, subscriber, mac = token.split(".")
        campaign_id, subscriber_id = int(campaign, 16), int(subscriber, 16)
    except ValueError as exc:
        raise InvalidLink(str(exc)) from exc
    return f"{campaign}.{subscriber}", campaign_id, subscriber_id or None, mac


def read_open(token: str) -> Tracked:
    tx = _read_tx(token)
    if tx is not None:
        _verify("txopen", tx[0], tx[2])
        return Tracked(0, None, tx_message=tx[1])
    ids, campaign_id, subscriber_id, mac = _read_ids(token)
    _verify("open", ids, mac)
    return Tracked(campaign_id, subscriber_id)


def read_click(token: str, encoded_url: str) -> Tracked:
    try:
        url = base64.urlsafe_b64decode(encoded_url + "=" * (-len(encoded_url) % 4)).decode()
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidLink(str(exc)) from exc
    tx = _read_tx(token)
    if tx is not None:
        _verify("txclick", f"{tx[0]}/{url}", tx[2])
        tracked = Tracked(0, None, url, tx_message=tx[1])
    else:
        ids, campaign_id, subscriber_id, mac = _read_ids(token)
        _verify("click", f"{ids}/{url}", mac)
        tracked = Tracked(campaign_id, subscriber_id, url)
    if not _trackable(url):
        raise InvalidLink("not a web link")
    return tracked


_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def _trackable(url: str) -> bool:
    """A web link, and one that can go in a Location header as it is (no
    whitespace or control characters: nothing that could split a header)."""
    return url[:8].lower().startswith(("http://", "https://")) and not _CONTROL.search(url)


# An <a> tag's href, quoted either way; the value is HTML as written.
_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
# A URL in the text part ends at whitespace or at what usually wraps one.
_TEXT_URL = re.compile(r"""https?://[^\s<>"')\]]+""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def rewrite_html(html_text: str, track: Callable[[str], str], keep: Collection[str]) -> str:
    """Every web link of the HTML through ``track`` (the URL to its tracked
    form), except those in ``keep``."""

    def replace(match: re.Match[str]) -> str:
        url = html.unescape(match.group(3).strip())
        if not _trackable(url) or url in keep:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{html.escape(track(url))}{match.group(2)}"

    return _HREF.sub(replace, html_text)


def rewrite_text(text: str, track: Callable[[str], str], keep: Collection[str]) -> str:
    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        url = found.rstrip(".,;:!?")  # the sentence's, not the URL's
        if url in keep or not _trackable(url):
            return found
        return track(url) + found[len(url) :]

    return _TEXT_URL.sub(replace, text)


def with_pixel(html_text: str, pixel_url: str) -> str:
    """The open pixel before ``</body>`` (or at the end)."""
    pixel = (
        f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0">'
    )
    ends = list(_BODY_END.finditer(html_text))
    if not ends:
        return html_text + pixel
    at = ends[-1].start()
    return html_text[:at] + pixel + html_text[at:]


def track_message(
    *,
    html_text: str,
    text: str,
    campaign_id: int,
    subscriber_id: int | None,
    opens: bool,
    clicks: bool,
    keep: Collection[str],
) -> tuple[str, str]:
    """A rendered message's HTML and text with tracked links and the pixel."""
    return _tracked(
        html_text,
        text,
        click=(lambda url: click_path(campaign_id, subscriber_id, url)) if clicks else None,
        pixel=open_path(campaign_id, subscriber_id) if opens else "",
        keep=keep,
    )


def track_tx_message(
    *, html_text: str, text: str, public_id: str, opens: bool, clicks: bool
) -> tuple[str, str]:
    """A transactional message's HTML and text with its own tracked links and pixel."""
    return _tracked(
        html_text,
        text,
        click=(lambda url: tx_click_path(public_id, url)) if clicks else None,
        pixel=tx_open_path(public_id) if opens else "",
        keep=(),
    )


def _tracked(
    html_text: str,
    text: str,
    *,
    click: Callable[[str], str] | None,
    pixel: str,
    keep: Collection[str],
) -> tuple[str, str]:
    base = settings.BASE_URL
    if click is not None:

        def track(url: str) -> str:
            return base + click(url)

        html_text = rewrite_html(html_text, track, keep)
        text = rewrite_text(text, track, keep)
    if pixel:
        html_text = with_pixel(html_text, base + pixel)
    return html_text, text
