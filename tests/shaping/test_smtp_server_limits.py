"""The rules for an SMTP server's hourly/daily limits and warm-up ramp."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from delivery.limit_selectors import effective_daily_limit, utc_today, warmup_ramp
from delivery.models import SmtpServer
from delivery.services import create_smtp_server, update_smtp_server


def _create(**overrides: Any) -> SmtpServer:
    return create_smtp_server(
        **{"name": "Relay", "host": "smtp.example.com", "port": 587, **overrides}
    )


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


def _update(server: SmtpServer, **overrides: Any) -> SmtpServer:
    base = {
        "name": server.name,
        "host": server.host,
        "port": server.port,
        "security": server.security,
        "username": server.username,
        "password": None,
        "max_connections": server.max_connections,
        "messages_per_second": server.messages_per_second,
    }
    return update_smtp_server(server=server, **{**base, **overrides})


def test_a_server_without_limits_has_no_daily_cap(db: None) -> None:
    server = _create()
    assert (server.messages_per_hour, server.messages_per_day) == (None, None)
    assert effective_daily_limit(server) is None


def test_hourly_and_daily_limits_are_stored(db: None) -> None:
    server = _create(messages_per_hour=500, messages_per_day=10_000)
    server.refresh_from_db()
    assert (server.messages_per_hour, server.messages_per_day) == (500, 10_000)
    assert effective_daily_limit(server) == 10_000


@pytest.mark.parametrize("field", ["messages_per_hour", "messages_per_day"])
@pytest.mark.parametrize("value", [0, -5, 2**31])
def test_a_limit_must_be_a_positive_whole_number(db: None, field: str, value: int) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(**{field: value})
    assert list(_errors(exc)) == [field]
    assert not SmtpServer.objects.exists()


def test_an_hourly_limit_above_the_daily_limit_is_refused_with_both_numbers(db: None) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(messages_per_hour=2000, messages_per_day=1000)
    [message] = _errors(exc)["messages_per_hour"]
    assert message.startswith("The hourly limit (2000) cannot be more than the daily limit (1000)")


def test_an_hourly_limit_equal_to_the_daily_limit_is_fine(db: None) -> None:
    assert _create(messages_per_hour=1000, messages_per_day=1000).messages_per_hour == 1000


def test_a_warm_up_without_a_first_day_starts_today(db: None) -> None:
    server = _create(warmup_start_per_day=100, warmup_growth_factor=2.0)
    assert server.warmup_started_on == utc_today()
    assert effective_daily_limit(server) == 100


def test_a_warm_up_grows_by_its_factor_each_day_up_to_the_daily_limit(db: None) -> None:
    today = utc_today()
    server = _create(
        messages_per_day=1000,
        warmup_start_per_day=100,
        warmup_growth_factor=2.0,
        warmup_started_on=today - timedelta(days=2),
    )
    assert effective_daily_limit(server, today=today) == 400
    ramp = warmup_ramp(server, today=today)
    assert [(step.day - today).days for step in ramp] == list(range(7))
    assert [step.limit for step in ramp] == [400, 800, 1000, 1000, 1000, 1000, 1000]
    assert [step.is_today for step in ramp] == [True] + [False] * 6


def test_without_a_warm_up_there_is_no_ramp(db: None) -> None:
    assert warmup_ramp(_create(messages_per_day=1000)) == []


@pytest.mark.parametrize("factor", [0.5, 0.99, 10.01, float("nan"), float("inf")])
def test_the_growth_factor_must_be_from_1_to_10(db: None, factor: float) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(warmup_start_per_day=100, warmup_growth_factor=factor)
    assert list(_errors(exc)) == ["warmup_growth_factor"]


@pytest.mark.parametrize("factor", [1.0, 10.0])
def test_the_growth_factor_bounds_are_allowed(db: None, factor: float) -> None:
    assert _create(warmup_start_per_day=100, warmup_growth_factor=factor).pk


def test_a_warm_up_start_must_be_positive(db: None) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(warmup_start_per_day=0)
    assert list(_errors(exc)) == ["warmup_start_per_day"]


def test_without_a_warm_up_start_the_first_day_is_not_kept(db: None) -> None:
    server = _create(warmup_started_on=date(2024, 1, 1))
    assert server.warmup_started_on is None


def test_every_problem_is_reported_at_once(db: None) -> None:
    with pytest.raises(ValidationError) as exc:
        _create(port=0, messages_per_day=0, warmup_growth_factor=20)
    assert set(_errors(exc)) == {"port", "messages_per_day", "warmup_growth_factor"}


def test_an_update_that_leaves_limits_out_keeps_them(db: None) -> None:
    # What manage.py bootstrap does at every start of the development server.
    server = _create(messages_per_hour=50, messages_per_day=100, warmup_start_per_day=10)
    _update(server, host="smtp2.example.com")
    server.refresh_from_db()
    assert (server.host, server.messages_per_hour, server.messages_per_day) == (
        "smtp2.example.com",
        50,
        100,
    )
    assert server.warmup_start_per_day == 10


def test_an_update_with_none_removes_a_limit(db: None) -> None:
    server = _create(messages_per_hour=50, messages_per_day=100)
    _update(server, messages_per_hour=None, messages_per_day=None)
    server.refresh_from_db()
    assert (server.messages_per_hour, server.messages_per_day) == (None, None)


def test_an_update_checks_a_new_hourly_limit_against_the_stored_daily_one(db: None) -> None:
    server = _create(messages_per_day=100)
    with pytest.raises(ValidationError) as exc:
        _update(server, messages_per_hour=500)
    assert "daily limit (100)" in _errors(exc)["messages_per_hour"][0]
    server.refresh_from_db()
    assert server.messages_per_hour is None
