"""api.fast_send: well-formed sends are answered ahead of Django, everything else by Django.

Every test in tests/api/test_tx.py posts through the whole application, so
the fast path carries the send tests; these pin what is special to it: which
requests it answers, that the ones it leaves reach Django body and all, and
that its answers are Django's (status, body, headers).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connection
from django.test import Client

from api.fast_send import fast_send
from api.services import create_token
from postino.permissions import VIEWERS_GROUP
from tests.api.client import PREFIX, ApiClient
from tests.support import wsgi
from transactional.models import IdempotencyRecord, TxMessage, TxTemplate

pytestmark = pytest.mark.django_db

SEND = {"to": ["ada@example.com"], "subject": "Hi {{ name }}", "html": "<p>Hi {{ name }}</p>"}


def stub_django(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Django's stand-in: says it answered, and echoes the body it could read."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    start_response("299 Django", [("Content-Type", "text/plain")])
    return [b"django:" + environ["wsgi.input"].read(length)]


def through_stub(
    body: bytes,
    *,
    token: str = "",
    path: str = "/tx",
    host: str = "testserver",
    secure: bool = True,
) -> Any:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": PREFIX + path,
        "HTTP_HOST": host,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "443" if secure else "80",
        "wsgi.url_scheme": "https" if secure else "http",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    with wsgi.connections_kept():
        content = b"".join(fast_send(stub_django)(environ, start_response))
    return seen["status"], seen["headers"], content


def viewer_token() -> str:
    user = User.objects.create_user("ivy", "ivy@example.com", "pw-long-enough-1", is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    return create_token(user=user)


def test_a_well_formed_send_is_answered_and_stored_without_django(owner: User) -> None:
    body = json.dumps(SEND | {"data": {"name": "Ada"}}).encode()
    status, headers, content = through_stub(body, token=create_token(user=owner))
    assert status == "202 Accepted"
    (result,) = json.loads(content)["messages"]
    assert result["status"] == "queued"
    message = TxMessage.objects.get(public_id=result["id"])
    assert (message.email, message.subject, message.payload is not None) == (
        "ada@example.com",
        "Hi Ada",
        True,
    )
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "case",
    ["no token", "unknown token", "viewer", "not staff", "not json", "not a send", "other path"],
)
def test_what_it_does_not_answer_reaches_django_with_its_body(
    case: str, owner: User, outsider: User
) -> None:
    body = json.dumps(SEND).encode()
    token = create_token(user=owner)
    path = "/tx"
    if case == "no token":
        token = ""
    elif case == "unknown token":
        token = "pst_not-a-token"
    elif case == "viewer":
        token = viewer_token()
    elif case == "not staff":
        token = create_token(user=outsider)
    elif case == "not json":
        body = b"{not json"
    elif case == "not a send":
        body = b'{"to": 5}'
    else:
        path = "/tx/templates"
    status, _, content = through_stub(body, token=token, path=path)
    assert (status, content) == ("299 Django", b"django:" + body)
    assert not TxMessage.objects.exists()


def test_its_answers_are_the_ones_django_gives(owner: User, outsider: User) -> None:
    """The same requests through the application and through Django alone."""
    django_only = Client()
    owner_token = create_token(user=owner)

    def both(body: bytes, token: str, **headers: str) -> tuple[Any, Any]:
        auth = {"Authorization": f"Bearer {token}"} if token else {}
        whole = wsgi.call("POST", PREFIX + "/tx", body, headers={**auth, **headers})
        alone = django_only.post(
            PREFIX + "/tx",
            body,
            content_type="application/json",
            headers={**auth, **headers},
            secure=True,
        )
        return whole, alone

    refused = json.dumps(SEND | {"to": ["not an address"]}).encode()
    for body, token in (
        (json.dumps(SEND).encode(), ""),
        (json.dumps(SEND).encode(), create_token(user=outsider)),
        (json.dumps(SEND).encode(), viewer_token()),
        (b"{not json", owner_token),
        (b'{"to": 5, "data": []}', owner_token),
        (refused, owner_token),  # refused by the services: the fast path's own answer
    ):
        whole, alone = both(body, token)
        assert (whole.status_code, whole.json()) == (alone.status_code, alone.json()), body
        assert whole.status_code in (400, 401, 403)
        assert whole["X-Content-Type-Options"] == "nosniff"

    keyed = SEND | {"idempotency_key": "order-7", "data": {"name": "Ada"}}
    first, _ = both(json.dumps(keyed).encode(), owner_token)
    assert first.status_code == 202
    other = json.dumps(keyed | {"to": ["bob@example.com"]}).encode()
    whole, alone = both(other, owner_token)
    assert (whole.status_code, whole.json()) == (alone.status_code, alone.json())
    assert whole.status_code == 422
    assert IdempotencyRecord.objects.count() == 1
    assert TxMessage.objects.count() == 1


def test_a_host_not_allowed_and_plain_http_are_djangos_to_answer(
    owner_api: ApiClient, settings: Any
) -> None:
    body = json.dumps(SEND | {"data": {"name": "Ada"}}).encode()
    auth = {"Authorization": f"Bearer {owner_api.token}"}
    foreign = wsgi.call("POST", PREFIX + "/tx", body, headers=auth, host="evil.example")
    assert foreign.status_code == 400  # Django's DisallowedHost
    assert owner_api.token is not None
    assert through_stub(body, token=owner_api.token, host="evil.example")[0] == "299 Django"
    settings.SECURE_SSL_REDIRECT = True  # Django's middleware redirects plain HTTP
    assert through_stub(body, token=owner_api.token, secure=False)[0] == "299 Django"
    assert through_stub(body, token=owner_api.token)[0] == "202 Accepted"
    assert TxMessage.objects.count() == 1


def test_a_send_costs_the_same_few_queries_for_one_recipient_or_many(
    owner: User, django_assert_num_queries: Any, clean_redis: None
) -> None:
    """The template, the recipients' facts, one INSERT; the token is trusted
    from its first check (API_TOKEN_CACHE_SECONDS)."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement store is PostgreSQL's; SQLite's takes a transaction")
    token = create_token(user=owner)
    first = json.dumps(SEND | {"data": {"name": "A"}}).encode()
    wsgi.call("POST", PREFIX + "/tx", first, headers={"Authorization": f"Bearer {token}"})
    stored = TxTemplate.objects.create(name="Receipt", subject="Receipt", html="<p>{{ n }}</p>")
    for count in (1, 25):
        body = {
            "to": [f"r{count}-{n}@example.com" for n in range(count)],
            "template": stored.pk,
            "data": {"n": 1},
        }
        with django_assert_num_queries(3):
            answer = wsgi.call(
                "POST",
                PREFIX + "/tx",
                json.dumps(body).encode(),
                headers={"Authorization": f"Bearer {token}"},
            )
        assert answer.status_code == 202
        assert len(answer.json()["messages"]) == count
