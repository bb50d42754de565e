"""The OpenAPI document: served without a token, and lists every operation."""

from __future__ import annotations

from django.test import Client

from tests.api.routes import ROUTES


def test_the_openapi_document_is_served_without_a_token(db: None) -> None:
    response = Client().get("/api/v1/openapi.json", secure=True)
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "Postino API"


def test_the_openapi_document_lists_every_operation(db: None) -> None:
    document = Client().get("/api/v1/openapi.json", secure=True).json()
    documented = {
        (method.upper(), path.removeprefix("/api/v1"))
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == set(ROUTES)


def test_the_openapi_document_declares_bearer_authentication(db: None) -> None:
    document = Client().get("/api/v1/openapi.json", secure=True).json()
    schemes = document["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(iter(schemes.values())).items()


def test_the_smtp_password_is_never_part_of_a_response_schema(db: None) -> None:
    document = Client().get("/api/v1/openapi.json", secure=True).json()
    assert "password" not in document["components"]["schemas"]["SmtpServerOut"]["properties"]
