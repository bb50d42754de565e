"""One error shape for the whole API.

Every error answers ``{"detail": "<summary>", "errors": [{"field", "message"}]}``
(``errors`` may be empty; template problems add ``line``). Domain exceptions
raised by services are mapped here, so endpoints never catch them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as RequestValidationError

from campaigns.abtest import AbTestError
from campaigns.rendering import FieldAndTemplateErrors, TemplateProblem, TemplateValidationError
from campaigns.services import CampaignStateError
from delivery.domains import DuplicateSendingDomain
from postino.forms import error_list
from subscribers.imports.services import ImportStateError
from subscribers.segments.services import SegmentInUse
from subscribers.services import (
    DuplicateList,
    DuplicateSubscriber,
    ListInUse,
    SubscriberInUse,
    SubscriptionStateError,
)
from transactional.services import IdempotencyConflict, TxError

# Where ninja says a request value came from; the rest of ``loc`` is the field.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}


def error_body(detail: str, errors: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    return {"detail": detail, "errors": list(errors)}


def _field_from_loc(loc: Iterable[Any], body_params: set[str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in _LOCATIONS:
        source = parts.pop(0)
        # Body fields are nested under the endpoint's argument name.
        if source == "body" and parts and parts[0] in body_params:
            parts.pop(0)
    return ".".join(parts) or NON_FIELD_ERRORS


def _django_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    return list(error_list(exc, default_field=NON_FIELD_ERRORS))


def _template_errors(problems: Iterable[TemplateProblem]) -> list[dict[str, Any]]:
    return [{"field": p.field, "line": p.line, "message": p.message} for p in problems]


def send_refused(exc: TxError | IdempotencyConflict) -> tuple[int, dict[str, Any]]:
    """Status and body for a transactional send the services refused (here and in
    ``api.fast_send``)."""
    if isinstance(exc, IdempotencyConflict):
        # As the IETF's Idempotency-Key draft says: the same key, another request.
        return 422, error_body(str(exc), [{"field": "idempotency_key", "message": str(exc)}])
    errors = [{"field": where, "message": message} for where, message in exc.problems]
    return 400, error_body(f"The send was not accepted: {exc}", errors)


def install(api: NinjaAPI, *, body_params: set[str]) -> None:
    """Register the handlers. ``body_params``: argument names endpoints use for bodies."""

    def respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        return api.create_response(request, body, status=status)

    @api.exception_handler(RequestValidationError)
    def request_invalid(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
        # ninja answers 422 by default; we treat a malformed request as 400.
        errors = [
            {"field": _field_from_loc(e.get("loc", ()), body_params), "message": e.get("msg", "")}
            for e in exc.errors
        ]
        return respond(request, 400, error_body("The request is invalid.", errors))

    @api.exception_handler(DjangoValidationError)
    def domain_invalid(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        errors = _django_errors(exc)
        if isinstance(exc, FieldAndTemplateErrors):
            # Raised with the field errors: every problem in one answer.
            errors += _template_errors(exc.template_problems)
        return respond(request, 400, error_body("The request is invalid.", errors))

    @api.exception_handler(TemplateValidationError)
    def template_invalid(request: HttpRequest, exc: TemplateValidationError) -> HttpResponse:
        errors = _template_errors(exc.problems)
        return respond(request, 400, error_body(f"The template does not compile: {exc}", errors))

    @api.exception_handler(DuplicateSubscriber)
    def duplicate_subscriber(request: HttpRequest, exc: DuplicateSubscriber) -> HttpResponse:
        body = error_body(str(exc), [{"field": "email", "message": str(exc)}])
        body["existing_id"] = exc.existing_id
        return respond(request, 409, body)

    @api.exception_handler(DuplicateList)
    def duplicate_list(request: HttpRequest, exc: DuplicateList) -> HttpResponse:
        return respond(request, 409, error_body(str(exc), [{"field": "name", "message": str(exc)}]))

    @api.exception_handler(CampaignStateError)
    def wrong_state(request: HttpRequest, exc: CampaignStateError) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(AbTestError)
    def wrong_test_phase(request: HttpRequest, exc: AbTestError) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(SubscriberInUse)
    def subscriber_in_use(request: HttpRequest, exc: SubscriberInUse) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(ImportStateError)
    def import_state(request: HttpRequest, exc: ImportStateError) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(ListInUse)
    def list_in_use(request: HttpRequest, exc: ListInUse) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(SubscriptionStateError)
    def subscription_state(request: HttpRequest, exc: SubscriptionStateError) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(SegmentInUse)
    def segment_in_use(request: HttpRequest, exc: SegmentInUse) -> HttpResponse:
        return respond(request, 409, error_body(str(exc)))

    @api.exception_handler(TxError)
    def send_invalid(request: HttpRequest, exc: TxError) -> HttpResponse:
        return respond(request, *send_refused(exc))

    @api.exception_handler(IdempotencyConflict)
    def key_reused(request: HttpRequest, exc: IdempotencyConflict) -> HttpResponse:
        return respond(request, *send_refused(exc))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return respond(request, 404, error_body(str(exc) or "Not found."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        response = respond(request, exc.status_code, error_body(str(exc)))
        if isinstance(exc, AuthenticationError):
            response["WWW-Authenticate"] = 'Bearer realm="postino"'
        return response

    @api.exception_handler(DuplicateSendingDomain)
    def duplicate_sending_domain(request: HttpRequest, exc: DuplicateSendingDomain) -> HttpResponse:
        # A ValidationError for the forms, but a conflict with a row for the API.
        return respond(request, 409, error_body(exc.messages[0], _django_errors(exc)))
