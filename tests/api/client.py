"""A JSON client for API v1 tests."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from tests.support import wsgi

PREFIX = "/api/v1"


class ApiClient:
    """Speaks JSON to /api/v1 with an optional bearer token; no cookies, no CSRF.

    Requests are HTTPS, as in production (BASE_URL is https, so plain HTTP redirects).
    """

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self._client = Client(enforce_csrf_checks=True)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._client.get(PREFIX + path, params or {}, headers=self._headers(), secure=True)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        raw: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        data = raw if raw is not None else ("" if body is None else json.dumps(body))
        if path == "/tx":
            # The whole application, as production serves it: api.fast_send
            # answers well-formed sends before Django sees them.
            return wsgi.call(
                "POST",
                PREFIX + path,
                data.encode(),
                headers={**self._headers(), **(headers or {})},
                environ=self._client.defaults,
            )
        return self._client.post(
            PREFIX + path,
            data,
            content_type="application/json",
            headers={**self._headers(), **(headers or {})},
            secure=True,
        )

    def upload(self, path: str, fields: dict[str, Any]) -> Any:
        """A multipart POST: file fields are (name, bytes) pairs, lists repeat the key."""
        from django.core.files.uploadedfile import SimpleUploadedFile

        data = {
            key: SimpleUploadedFile(value[0], value[1]) if isinstance(value, tuple) else value
            for key, value in fields.items()
        }
        return self._client.post(PREFIX + path, data, headers=self._headers(), secure=True)

    def put(self, path: str, body: Any) -> Any:
        return self._client.put(
            PREFIX + path,
            json.dumps(body),
            content_type="application/json",
            headers=self._headers(),
            secure=True,
        )

    def patch(self, path: str, body: Any = None, *, raw: str | None = None) -> Any:
        data = raw if raw is not None else json.dumps(body)
        return self._client.patch(
            PREFIX + path,
            data,
            content_type="application/json",
            headers=self._headers(),
            secure=True,
        )

    def delete(self, path: str) -> Any:
        return self._client.delete(PREFIX + path, headers=self._headers(), secure=True)

    def request(self, method: str, path: str) -> Any:
        call = getattr(self._client, method.lower())
        return call(PREFIX + path, headers=self._headers(), secure=True)
