"""What a WSGI fast path ahead of Django adds to its answers.

Two routes are answered before Django's middleware runs (``tracking.wsgi``,
``api.fast_send``): thousands of calls a second where the middleware stack
cost more than the work. Their answers carry the headers Django's security
and clickjacking middleware would have added.
"""

from __future__ import annotations

from django.conf import settings


def security_headers() -> list[tuple[str, str]]:
    headers = [
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", str(settings.SECURE_REFERRER_POLICY)),
        ("Cross-Origin-Opener-Policy", str(settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)),
        ("X-Frame-Options", str(settings.X_FRAME_OPTIONS)),
    ]
    if settings.SECURE_HSTS_SECONDS:
        hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
        if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
            hsts += "; includeSubDomains"
        if settings.SECURE_HSTS_PRELOAD:
            hsts += "; preload"
        headers.append(("Strict-Transport-Security", hsts))
    return headers
