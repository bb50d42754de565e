"""The tracking endpoints ahead of Django, for the redirect's latency.

A click is a person waiting on a redirect, thousands a second after a send:
Django's whole middleware stack (sessions, CSRF, auth, messages) costs more
than verifying a signature and queueing the event. ``fast_path`` answers
``/t/o/...gif`` and ``/t/c/...`` itself (``tracking.endpoint``, the same
answers the Django views give) and hands every other request to Django. It
adds what the security middleware would to such an answer
(``postino.fast_path``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from postino.fast_path import security_headers
from tracking import endpoint

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
OPEN_PREFIX = "/t/o/"
CLICK_PREFIX = "/t/c/"


def _answer_for(path: str, environ: dict[str, Any]) -> endpoint.Answer | None:
    if path.startswith(OPEN_PREFIX) and path.endswith(".gif"):
        token = path[len(OPEN_PREFIX) : -len(".gif")]
        return endpoint.open_pixel(environ, token) if "/" not in token else endpoint.NOT_FOUND
    if path.startswith(CLICK_PREFIX):
        token, _, url = path[len(CLICK_PREFIX) :].partition("/")
        return endpoint.click(environ, token, url) if url and "/" not in url else endpoint.NOT_FOUND
    return None


def fast_path(django_app: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = _answer_for(environ.get("PATH_INFO", ""), environ)
        if answer is None:
            return django_app(environ, start_response)
        headers = [
            ("Content-Type", answer.content_type),
            ("Content-Length", str(len(answer.body))),
            *answer.headers,
            *security_headers(),
        ]
        status = HTTPStatus(answer.status)
        start_response(f"{status.value} {status.phrase}", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else answer.body]

    return application
