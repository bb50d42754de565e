"""postino.postgresql: Django's health check, at most once a second per connection."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connections

from postino.postgresql.base import DatabaseWrapper

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
