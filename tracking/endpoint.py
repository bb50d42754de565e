"""What the open pixel and the click redirect answer, from a request's environ.

One function each, shared by the Django views (``tracking.views``, for the
development server and the tests) and the WSGI fast path that production's
gunicorn serves them by (``tracking.wsgi``): verify the signature, queue the
event, answer. Neither touches the database.

What is queued is the verdict's evidence for a few seconds (the user agent,
which address block the visitor came from), never the address itself; the
database keeps only the verdict.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from subscribers.consent import client_ip_of
from tracking import classify, links, queue

log = logging.getLogger(__name__)

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
USER_AGENT_KEPT = 300
SAFE_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    content_type: str = "text/plain; charset=utf-8"


NOT_FOUND = Answer(404, b"Unknown link.\n")
NOT_ALLOWED = Answer(405, b"Only GET and HEAD.\n", [("Allow", "GET, HEAD")])


def _record(meta: Mapping[str, Any], kind: str, tracked: links.Tracked) -> None:
    event: dict[str, Any] = {
        "k": kind,
        "c": tracked.campaign_id,
        "s": tracked.subscriber_id,
        "a": str(meta.get("HTTP_USER_AGENT", ""))[:USER_AGENT_KEPT],
        "n": classify.network_hint(client_ip_of(meta)),
        "m": meta.get("REQUEST_METHOD", "GET"),
        "t": time.time(),
    }
    if tracked.url:
        event["u"] = tracked.url
    if tracked.tx_message:
        event["x"] = tracked.tx_message
    try:
        queue.push(event)
    except Exception:
        # The reader still gets the image or the page; the event is what is lost.
        log.exception("tracking event not queued")


def open_pixel(meta: Mapping[str, Any], token: str) -> Answer:
    if meta.get("REQUEST_METHOD") not in SAFE_METHODS:
        return NOT_ALLOWED
    try:
        tracked = links.read_open(token)
    except links.InvalidLink:
        return NOT_FOUND
    _record(meta, "open", tracked)
    return Answer(
        200,
        PIXEL,
        [("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0, private")],
        content_type="image/gif",
    )


def click(meta: Mapping[str, Any], token: str, url: str) -> Answer:
    if meta.get("REQUEST_METHOD") not in SAFE_METHODS:
        return NOT_ALLOWED
    try:
        tracked = links.read_click(token, url)
    except links.InvalidLink:
        return NOT_FOUND
    _record(meta, "click", tracked)
    return Answer(
        302,
        headers=[
            ("Location", tracked.url),
            ("Cache-Control", "no-store, private"),
            ("Referrer-Policy", "no-referrer"),
        ],
    )
