"""A stand-in for ESPs' HTTP APIs, at the ``requests.Session.request`` boundary.

The ESPs are outside our machine, so that one call is all we fake: anymail's
backends, our transport, the chunk loop and the ledger all run for real.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

Responder = Callable[[dict[str, Any]], tuple[int, dict[str, Any] | str]]


@dataclass
class FakeApi:
    """Answers each API call with ``respond(payload)`` and records it."""

    respond: Responder
    calls: list[dict[str, Any]] = field(default_factory=list)
    sessions: set[int] = field(default_factory=set)

    def request(self, session: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        body = kwargs.get("data") or kwargs.get("json") or "{}"
        payload = json.loads(body) if isinstance(body, str | bytes) else body
        self.calls.append({"url": url, "payload": payload, "headers": kwargs.get("headers")})
        self.sessions.add(id(session))
        status, content = self.respond(payload)
        response = requests.Response()
        response.status_code = status
        response._content = (content if isinstance(content, str) else json.dumps(content)).encode()
        response.headers["Content-Type"] = "application/json"
        response.url = url
        return response


def install_fake_api(monkeypatch: pytest.MonkeyPatch, respond: Responder) -> FakeApi:
    """Route every ``requests`` call of the test to a new FakeApi."""
    api = FakeApi(respond)
    monkeypatch.setattr(
        requests.Session,
        "request",
        lambda self, method, url, **kw: api.request(self, method, url, **kw),
    )
    return api


def postmark_ok(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Postmark accepting the message, with an id made from the recipient."""
    return 200, {
        "To": payload["To"], "SubmittedAt": "2026-11-27T10:00:00Z",
        "MessageID": f"pm-{payload['To'].split('<')[-1].rstrip('>')}", "ErrorCode": 0,
        "Message": "OK",
    }  # fmt: skip
