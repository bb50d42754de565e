"""The Django admin lists every model for a superuser, and only for staff."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

ADMIN_MODELS = sorted(
    f"{model._meta.app_label}_{model._meta.model_name}"
    for model in admin.site._registry
    if model._meta.app_label in {"subscribers", "campaigns", "delivery", "api", "bounces"}
)


def test_our_models_are_in_the_admin() -> None:
    assert ADMIN_MODELS == [
        "api_apitoken",
        "bounces_bounceevent",
        "bounces_bouncepolicy",
        "bounces_mailbox",
        "bounces_suppression",
        "campaigns_campaign",
        "campaigns_template",
        "delivery_delivery",
        "delivery_sendingdomain",
        "delivery_smtpserver",
        "subscribers_mailinglist",
        "subscribers_subscriber",
    ]


@pytest.mark.parametrize("name", ADMIN_MODELS)
def test_a_superuser_sees_each_changelist(owner_client: Client, name: str) -> None:
    assert owner_client.get(reverse(f"admin:{name}_changelist")).status_code == 200


@pytest.mark.parametrize("name", ADMIN_MODELS)
def test_an_outsider_is_sent_to_the_admin_login(outsider_client: Client, name: str) -> None:
    response = outsider_client.get(reverse(f"admin:{name}_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_ledger_is_read_only_in_the_admin(owner_client: Client) -> None:
    assert owner_client.get(reverse("admin:delivery_delivery_add")).status_code == 403
