"""The domain limits page: list, add, edit and remove."""

from __future__ import annotations

import html
from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from delivery.models import DomainLimit


def test_the_page_lists_the_default_limits(teammate_client: Client, db: None) -> None:
    page = teammate_client.get(reverse("delivery:domain_limit_index")).content.decode()
    assert "gmail.com" in page and "yahoo.com" in page
    assert "1200" in page


def test_the_list_costs_the_same_queries_however_many_limits(
    teammate_client: Client, db: None, django_assert_max_num_queries: Any
) -> None:
    DomainLimit.objects.bulk_create(
        DomainLimit(domain=f"d{i}.example", messages_per_minute=10) for i in range(30)
    )
    with django_assert_max_num_queries(3):
        teammate_client.get(reverse("delivery:domain_limit_index"))


def test_adding_a_limit_normalises_the_domain(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_limit_create"),
        {"domain": "Mail.Example.COM", "messages_per_minute": "90"},
        follow=True,
    )
    assert DomainLimit.objects.get(domain="mail.example.com").messages_per_minute == 90
    assert "Limit for mail.example.com added." in response.content.decode()


def test_a_duplicate_domain_is_reported_beside_the_domain(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_limit_create"), {"domain": "GMAIL.COM", "messages_per_minute": "5"}
    )
    [error] = response.context["form"].errors["domain"]
    assert error == "gmail.com already has a limit; edit that one instead."
    page = response.content.decode()
    field = page[page.index('id="field-domain"') : page.index('id="field-messages_per_minute"')]
    assert html.escape(error) in field


def test_zero_per_minute_is_reported_beside_the_field(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("delivery:domain_limit_create"),
        {"domain": "example.com", "messages_per_minute": "0"},
    )
    assert "messages_per_minute" in response.context["form"].errors
    assert not DomainLimit.objects.filter(domain="example.com").exists()


def test_editing_a_limit_saves_it(teammate_client: Client, db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    page = teammate_client.get(reverse("delivery:domain_limit_edit", args=[gmail.pk])).content
    assert b'value="gmail.com"' in page
    teammate_client.post(
        reverse("delivery:domain_limit_edit", args=[gmail.pk]),
        {"domain": "gmail.com", "messages_per_minute": "600"},
    )
    gmail.refresh_from_db()
    assert gmail.messages_per_minute == 600


def test_removing_a_limit_needs_a_post_with_a_csrf_token(teammate: User, db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    url = reverse("delivery:domain_limit_delete", args=[gmail.pk])
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 403
    assert DomainLimit.objects.filter(pk=gmail.pk).exists()


def test_removing_a_limit_deletes_it(teammate_client: Client, db: None) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    response = teammate_client.post(
        reverse("delivery:domain_limit_delete", args=[gmail.pk]), follow=True
    )
    assert not DomainLimit.objects.filter(pk=gmail.pk).exists()
    assert "Limit for gmail.com removed" in response.content.decode()
