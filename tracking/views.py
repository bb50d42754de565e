"""The open pixel and the click redirect: verify the signature, queue the event, answer.

Neither waits on the database: the event goes to Redis (``tracking.queue``)
and a worker writes it. What is queued is the verdict's evidence for a few
seconds (the user agent, which address block the visitor came from), never
the address itself; the database keeps only the verdict.
"""

from __future__ import annotations

import base64
import logging
import time
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_safe

from subscribers.consent import client_ip
from tracking import classify, links, queue

log = logging.getLogger(__name__)

# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
USER_AGENT_KEPT = 300


def _record(request: HttpRequest, kind: str, tracked: links.Tracked) -> None:
    event: dict[str, Any] = {
        "k": kind,
        "c": tracked.campaign_id,
        "s": tracked.subscriber_id,
        "a": request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_KEPT],
        "n": classify.network_hint(client_ip(request)),
        "m": request.method,
        "t": time.time(),
    }
    if tracked.url:
        event["u"] = tracked.url
    try:
        queue.push(event)
    except Exception:
        # The reader still gets the image or the page; the event is what is lost.
        log.exception("tracking event not queued")


@require_safe
def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    try:
        tracked = links.read_open(token)
    except links.InvalidLink as exc:
        raise Http404("Unknown link.") from exc
    _record(request, "open", tracked)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store, no-cache, must-revalidate, max-age=0, private"
    return response


@require_safe
def click(request: HttpRequest, token: str, url: str) -> HttpResponse:
    try:
        tracked = links.read_click(token, url)
    except links.InvalidLink as exc:
        raise Http404("Unknown link.") from exc
    _record(request, "click", tracked)
    response = HttpResponseRedirect(tracked.url)
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response
