"""``/favicon.ico``: browsers ask for it on every site, whatever ``<link rel=icon>`` says.

Without a route each page view logs a 404 (public pages included). The answer is
the same SVG the pages link to; Chromium, Firefox and Safari accept an SVG body
at this path when its content type says so.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

ICON = "img/postino.svg"
# A day: the icon almost never changes, and a stale one harms nobody.
MAX_AGE_SECONDS = 24 * 60 * 60


@lru_cache(maxsize=1)
def _icon_bytes() -> bytes:
    path = finders.find(ICON)
    if not isinstance(path, str):
        raise FileNotFoundError(f"static file {ICON} is missing")
    with open(path, "rb") as icon:
        return icon.read()


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_icon_bytes(), content_type="image/svg+xml")
    patch_cache_control(response, public=True, max_age=MAX_AGE_SECONDS)
    return response
