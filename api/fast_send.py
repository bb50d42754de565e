"""``POST /api/v1/tx`` ahead of Django, for the applications that send through it.

A shop or a login page sends a password reset and waits for the 202,
hundreds of times a second. Django's handler, its middleware and ninja cost
more per send than checking, rendering and storing it. ``fast_send``
answers a well-formed, authorised send itself: the same schema
(``TxSendIn``), the same code after it (``api.endpoints.tx.accept_send``),
the same error bodies for a refused send (``api.errors.send_refused``), and
the headers the middleware would add (``postino.fast_path``).

Everything else goes on to Django untouched, body included, so its answer
stays the one precise answer: a missing or unknown token (401), an account
that may not send (403), a body that is not JSON or not a send (400), a
host not in ``ALLOWED_HOSTS``, plain HTTP where HTTPS is required
(``SECURE_SSL_REDIRECT``), a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE``.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

import pydantic
from django.conf import settings
from django.contrib.auth.models import User
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest

from api import errors, services
from api.endpoints.tx import accept_send
from api.schemas import TxSendIn
from postino.fast_path import security_headers
from postino.permissions import may_change
from transactional.services import IdempotencyConflict, TxError

log = logging.getLogger(__name__)

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SEND_PATH = "/api/v1/tx"


def fast_send(django_app: WSGIApp) -> WSGIApp:
    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != SEND_PATH or environ.get("REQUEST_METHOD") != "POST":
            return django_app(environ, start_response)
        body = _read_body(environ)
        if body is None:
            return django_app(environ, start_response)
        # Django reads the body again if the send is not ours to answer.
        environ["wsgi.input"] = io.BytesIO(body)
        # As Django's handler does: old connections are closed or checked then.
        signals.request_started.send(sender=fast_send, environ=environ)
        try:
            answer = _answer(environ, body)
        except Exception:
            # Django would log it and answer 500; so do we, in the API's shape.
            log.exception("Internal Server Error: %s", SEND_PATH)
            answer = 500, errors.error_body("The server could not accept the send; try again.")
        finally:
            signals.request_finished.send(sender=fast_send)
        if answer is None:
            environ["wsgi.input"] = io.BytesIO(body)
            return django_app(environ, start_response)
        status, content = answer
        encoded = json.dumps(content).encode()
        headers = [
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", str(len(encoded))),
            *security_headers(),
        ]
        phrase = HTTPStatus(status).phrase
        start_response(f"{status} {phrase}", headers)
        return [encoded]

    return application


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The request body, or None when Django should be the one to read it."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if length <= 0 or (limit is not None and length > limit):
        return None
    body: bytes = environ["wsgi.input"].read(length)
    return body


def _answer(environ: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]] | None:
    request = WSGIRequest(environ)
    try:
        request.get_host()
    except DisallowedHost:
        return None
    if settings.SECURE_SSL_REDIRECT and not request.is_secure():
        return None
    user = _sender(request.headers.get("Authorization", ""))
    if user is None:
        return None
    try:
        payload = TxSendIn.model_validate_json(body)
    except pydantic.ValidationError:
        return None
    try:
        return 202, accept_send(
            payload, user_pk=user.pk, idempotency_key=request.headers.get("Idempotency-Key", "")
        )
    except (TxError, IdempotencyConflict) as exc:
        return errors.send_refused(exc)


def _sender(authorization: str) -> User | None:
    """The token's user when it may send (``api.auth.StaffToken``'s rules)."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    user = services.authenticate(token.strip())
    if user is None or not user.is_staff or not may_change(user, "POST"):
        return None
    return user
