"""The Limits and Warm-up parts of the SMTP server pages."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

from django.test import Client
from django.urls import reverse

from delivery.limit_selectors import utc_today
from delivery.models import SmtpServer
from delivery.services import create_smtp_server


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Relay",
        "host": "smtp.example.com",
        "port": "587",
        "security": "starttls",
        "username": "",
        "password": "",
        "max_connections": "4",
        "messages_per_second": "50",
        "messages_per_hour": "",
        "messages_per_day": "",
        "warmup_start_per_day": "",
        "warmup_growth_factor": "1.5",
        "warmup_started_on": "",
        **overrides,
    }


def _field_html(page: str, name: str) -> str:
    start = page.index(f'id="field-{name}"')
    end = page.find('<div class="field', start + 1)
    return page[start : end if end != -1 else len(page)]


def test_the_form_groups_limits_and_warm_up_in_fieldsets(teammate_client: Client, db: None) -> None:
    page = teammate_client.get(reverse("delivery:smtp_create")).content.decode()
    limits = page[page.index('data-role="limits"') : page.index('data-role="warmup"')]
    assert "<legend>Limits</legend>" in limits
    assert 'name="messages_per_hour"' in limits and 'name="messages_per_day"' in limits
    assert "across all workers together" in limits
    warmup = page[page.index('data-role="warmup"') :]
    assert "<legend>Warm-up</legend>" in warmup
    for name in ("warmup_start_per_day", "warmup_growth_factor", "warmup_started_on"):
        assert f'name="{name}"' in warmup


def test_limits_and_warm_up_are_saved(teammate_client: Client, db: None) -> None:
    started = utc_today() - timedelta(days=1)
    response = teammate_client.post(
        reverse("delivery:smtp_create"),
        _form(
            messages_per_hour="100",
            messages_per_day="2000",
            warmup_start_per_day="50",
            warmup_growth_factor="2",
            warmup_started_on=started.isoformat(),
        ),
    )
    assert response.status_code == 302
    server = SmtpServer.objects.get()
    assert (server.messages_per_hour, server.messages_per_day) == (100, 2000)
    assert (server.warmup_start_per_day, server.warmup_growth_factor) == (50, 2.0)
    assert server.warmup_started_on == started


def test_an_hourly_limit_above_the_daily_one_is_reported_beside_it(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_create"), _form(messages_per_hour="500", messages_per_day="100")
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["messages_per_hour"]
    assert "daily limit (100)" in error
    assert html.escape(error) in _field_html(response.content.decode(), "messages_per_hour")
    assert not SmtpServer.objects.exists()


def test_a_bad_growth_factor_is_reported_beside_it(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_create"),
        _form(warmup_start_per_day="50", warmup_growth_factor="12"),
    )
    [error] = response.context["form"].errors["warmup_growth_factor"]
    assert "between 1.0" in error
    assert html.escape(error) in _field_html(response.content.decode(), "warmup_growth_factor")


def test_a_date_that_is_not_one_is_reported_beside_it(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:smtp_create"),
        _form(warmup_start_per_day="50", warmup_started_on="yesterday-ish"),
    )
    assert "warmup_started_on" in response.context["form"].errors


def test_the_edit_page_shows_todays_limit_and_the_next_seven_days_of_the_ramp(
    teammate_client: Client, db: None
) -> None:
    server = create_smtp_server(
        name="Fresh",
        host="smtp.example.com",
        port=587,
        messages_per_day=1000,
        warmup_start_per_day=100,
        warmup_growth_factor=2.0,
        warmup_started_on=utc_today() - timedelta(days=1),
    )
    response = teammate_client.get(reverse("delivery:smtp_edit", args=[server.pk]))
    page = response.content.decode()
    assert response.context["effective_daily_limit"] == 200
    assert 'data-role="effective-daily-limit">200 messages<' in page
    ramp = page[page.index('data-role="warmup-ramp"') :]
    ramp = ramp[: ramp.index("</table>")]
    limits = [step.limit for step in response.context["ramp"]]
    assert limits == [200, 400, 800, 1000, 1000, 1000, 1000]
    assert ramp.count("<tr") == 8  # a header and seven days
    assert utc_today().isoformat() in ramp


def test_the_edit_page_says_when_there_is_no_daily_limit(
    teammate_client: Client, smtp_server: SmtpServer
) -> None:
    page = teammate_client.get(reverse("delivery:smtp_edit", args=[smtp_server.pk])).content
    assert b'data-role="effective-daily-limit">No daily limit<' in page
    assert b'data-role="warmup-ramp"' not in page


def test_after_a_refused_save_the_limit_shown_is_the_saved_one(
    teammate_client: Client, db: None
) -> None:
    server = create_smtp_server(
        name="Capped", host="smtp.example.com", port=587, messages_per_day=300
    )
    response = teammate_client.post(
        reverse("delivery:smtp_edit", args=[server.pk]),
        _form(name="Capped", messages_per_day="9000", port="0"),
    )
    assert response.context["effective_daily_limit"] == 300


def test_the_server_list_shows_each_servers_limit_today_in_one_query(
    teammate_client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    for i in range(6):
        create_smtp_server(
            name=f"Server {i}",
            host="smtp.example.com",
            port=587,
            messages_per_hour=10 + i,
            warmup_start_per_day=100 * (i + 1),
            warmup_growth_factor=1.0,
        )
    # Session, user, servers: the effective limits cost no query per server.
    with django_assert_max_num_queries(3):
        response = teammate_client.get(reverse("delivery:smtp_index"))
    page = response.content.decode()
    assert page.count('data-role="effective-daily-limit">600') == 1
    assert page.count("warm-up</span>") == 6


def test_the_server_list_links_to_the_domain_limits(teammate_client: Client, db: None) -> None:
    page = teammate_client.get(reverse("delivery:smtp_index")).content.decode()
    assert f'href="{reverse("delivery:domain_limit_index")}"' in page
