from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def postino(request: HttpRequest) -> dict[str, Any]:
    return {
        "mailcatcher_enabled": settings.POSTINO["MAILCATCHER_ENABLED"],
        "base_url": settings.BASE_URL,
    }
