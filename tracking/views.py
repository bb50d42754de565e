"""The open pixel and the click redirect as Django views (``tracking.endpoint``
answers). Production's gunicorn serves the same answers without Django's
middleware (``tracking.wsgi``); these serve the development server and tests."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from tracking import endpoint


def _response(answer: endpoint.Answer) -> HttpResponse:
    response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
    for name, value in answer.headers:
        response[name] = value
    return response


def open_pixel(request: HttpRequest, token: str) -> HttpResponse:
    return _response(endpoint.open_pixel(request.META, token))


def click(request: HttpRequest, token: str, url: str) -> HttpResponse:
    return _response(endpoint.click(request.META, token, url))
