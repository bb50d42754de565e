"""postino.postgresql: Django's health check at most once a second per
connection, and prepared statements only where a hot path asks for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.contrib.auth.models import User
from django.db import DataError, connections, transaction

from api.services import create_token
from postino.postgresql.base import DatabaseWrapper
from tests.support import wsgi

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connection() -> DatabaseWrapper:
    wrapper = connections["default"]
    if not isinstance(wrapper, DatabaseWrapper):
        pytest.skip("the backend is PostgreSQL's")
    return wrapper


def check_as_a_request_starts(connection: DatabaseWrapper) -> None:
    connection.health_check_done = False  # what close_old_connections resets
    connection.close_if_health_check_failed()


def test_a_connection_that_just_answered_is_not_asked_again(
    connection: DatabaseWrapper, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[int] = []
    real = DatabaseWrapper.is_usable

    def counted(self: DatabaseWrapper) -> bool:
        asked.append(1)
        return real(self)

    connection.ensure_connection()
    monkeypatch.setattr(DatabaseWrapper, "is_usable", counted)
    connection._checked_at = 0.0
    for _ in range(5):
        check_as_a_request_starts(connection)
    assert len(asked) == 1
    connection._checked_at -= 2.0  # two seconds later
    check_as_a_request_starts(connection)
    assert len(asked) == 2


def test_a_connection_postgresql_dropped_is_replaced_once_its_second_is_over(
    connection: DatabaseWrapper,
) -> None:
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    settings = connection.get_connection_params()
    dsn = {key: settings[key] for key in ("host", "port", "user", "dbname") if settings.get(key)}
    with psycopg.connect(**dsn, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    connection._checked_at = 0.0
    check_as_a_request_starts(connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (new_pid,) = cursor.fetchone()
    assert new_pid != pid


def prepared_statements(connection: DatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [statement for (statement,) in cursor.fetchall()]


def test_a_prepared_cursor_prepares_its_statement_once_and_the_orm_never(
    connection: DatabaseWrapper,
) -> None:
    connection.close()  # a new connection: nothing prepared on it yet
    statement = "SELECT %s::int + 1, %s::bytea"
    answers = []
    for n in range(3):
        with connection.prepared_cursor() as cursor:
            cursor.execute(statement, [n, b"\x00\xff" * n])
            answers.append(cursor.fetchone())
    with connection.cursor() as cursor:
        for n in range(10):
            cursor.execute("SELECT %s::int * 2", [n])
    assert answers == [(1, b""), (2, b"\x00\xff"), (3, b"\x00\xff\x00\xff")]
    assert prepared_statements(connection) == ["SELECT $1::int + 1, $2::bytea"]


def test_a_failed_prepared_statement_rolls_back_and_the_next_one_works(
    connection: DatabaseWrapper,
) -> None:
    with (
        pytest.raises(DataError, match="division by zero"),
        transaction.atomic(),
        connection.prepared_cursor() as cursor,
    ):
        cursor.execute("SELECT 1 / %s::int", [0])
    with connection.prepared_cursor() as cursor:
        cursor.execute("SELECT 1 / %s::int", [1])
        assert cursor.fetchone() == (1,)


def test_the_transactional_send_prepares_its_statements(
    connection: DatabaseWrapper, owner: User, clean_redis: None
) -> None:
    """The template, the recipients' facts and the INSERT: what the accept
    path repeats hundreds of times a second."""
    connection.close()
    body = {"to": ["ada@example.com"], "subject": "Hi", "html": "<p>Hi</p>"}
    token = create_token(user=owner)
    answer = wsgi.call(
        "POST", "/api/v1/tx", json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}"},
    )  # fmt: skip
    assert answer.status_code == 202, answer.content
    statements = prepared_statements(connection)
    assert any("WITH w(email) AS (VALUES ($1))" in s for s in statements), statements
    assert any('INSERT INTO "transactional_txmessage"' in s for s in statements), statements


def test_prepared_statements_can_be_turned_off_for_a_pooler() -> None:
    """DATABASE_PREPARED_STATEMENTS=false: psycopg prepares nothing at all;
    either way the URL's own options (sslmode and the like) are kept."""
    code = (
        "import os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'postino.settings');"
        "import django; django.setup(); from django.conf import settings;"
        "options = settings.DATABASES['default']['OPTIONS'];"
        "print(options['sslmode'], repr(options.get('prepare_threshold')))"
    )
    root = Path(__file__).resolve().parent.parent
    url = "postgres://postgres@127.0.0.1:5432/postino?sslmode=prefer"
    answers = []
    for value in ("true", "false"):
        env = {**os.environ, "DATABASE_PREPARED_STATEMENTS": value, "DATABASE_URL": url}
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        answers.append(result.stdout.strip().splitlines()[-1])
    assert answers == [f"prefer {2**31 - 1}", "prefer None"]
