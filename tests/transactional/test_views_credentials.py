"""Relay credentials and categories from the pages: a password shown once and
stored as a hash, limits edited, revocation confirmed; a category cannot be
marketing and exempt at once."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from delivery.models import SmtpServer
from postino.permissions import VIEWERS_GROUP
from tests.conftest import PASSWORD
from transactional.credentials import authenticate, create_credential, hash_password
from transactional.models import Category, RelayCredential

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = False
    settings.POSTINO = {
        **settings.POSTINO,
        "SMTP_RELAY_HOST": "relay.example.com",
        "SMTP_RELAY_PORT": 2587,
    }


def new_credential(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Shop backend",
        "allowed_from_domains": "Shop.example.com\nmail.example.org\n",
        "messages_per_minute": "60",
        "messages_per_day": "",
        "max_message_mb": "5",
        "channel": "",
        "category": "",
        **changes,
    }


def test_creating_a_credential_shows_its_password_once_and_keeps_only_the_hash(
    teammate_client: Client, teammate: User
) -> None:
    answer = teammate_client.post("/transactional/credentials/new/", new_credential())
    assert answer.status_code == 200
    assert "no-store" in answer["Cache-Control"]
    html = answer.content.decode()
    password = re.search(r'data-role="password">([^<]+)<', html)
    assert password is not None
    credential = RelayCredential.objects.get()
    assert credential.username in html
    assert "relay.example.com" in html and "2587" in html
    assert "will not be shown again" in html
    assert credential.password_hash == hash_password(password.group(1))
    assert password.group(1) not in credential.password_hash
    assert credential.allowed_from_domains == ["shop.example.com", "mail.example.org"]
    assert (credential.messages_per_minute, credential.messages_per_day) == (60, None)
    assert credential.max_message_bytes == 5 * 1024 * 1024
    assert credential.created_by == teammate
    assert authenticate(credential.username, password.group(1)) == credential

    # Nowhere to be read again: the list and the edit page show the username only.
    for url in ("/transactional/credentials/", f"/transactional/credentials/{credential.pk}/"):
        page = teammate_client.get(url).content.decode()
        assert credential.username in page and password.group(1) not in page


def test_a_bad_domain_is_shown_beside_the_domains(teammate_client: Client) -> None:
    answer = teammate_client.post(
        "/transactional/credentials/new/", new_credential(allowed_from_domains="shop\n")
    )
    assert answer.status_code == 400
    assert "is not a domain" in answer.context["form"].errors["allowed_from_domains"][0]
    assert not RelayCredential.objects.exists()


def test_a_credential_without_domains_is_flagged_as_sending_from_anywhere(
    teammate_client: Client,
) -> None:
    create_credential(name="Legacy app")
    page = teammate_client.get("/transactional/credentials/").content.decode()
    assert "may send From any domain" in page


def test_limits_are_edited_without_touching_the_login(teammate_client: Client) -> None:
    server = SmtpServer.objects.create(name="Transactional", host="smtp.example.com")
    new = create_credential(name="Shop", allowed_from_domains=["shop.example.com"])
    answer = teammate_client.post(
        f"/transactional/credentials/{new.credential.pk}/",
        new_credential(
            allowed_from_domains="", messages_per_day="1000", max_message_mb="2", channel=server.pk
        ),
    )
    assert answer.status_code == 302
    credential = RelayCredential.objects.get()
    assert credential.allowed_from_domains == []
    assert credential.messages_per_day == 1000
    assert credential.channel == server
    assert credential.name == "Shop"
    assert authenticate(credential.username, new.password) == credential


def test_revoking_asks_first_then_stops_the_login(teammate_client: Client) -> None:
    new = create_credential(name="Shop")
    url = f"/transactional/credentials/{new.credential.pk}/revoke/"
    assert "stops working at once" in teammate_client.get(url).content.decode()
    assert teammate_client.post(url).status_code == 302
    assert authenticate(new.credential.username, new.password) is None
    assert "Revoked" in teammate_client.get("/transactional/credentials/").content.decode()


def test_a_viewer_sees_credentials_and_cannot_make_or_revoke_one() -> None:
    viewer = User.objects.create_user("ivy", "ivy@example.com", PASSWORD, is_staff=True)
    viewer.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    client = Client()
    client.force_login(viewer)
    new = create_credential(name="Shop")
    assert client.get("/transactional/credentials/").status_code == 200
    assert client.post("/transactional/credentials/new/", new_credential()).status_code == 403
    revoke = f"/transactional/credentials/{new.credential.pk}/revoke/"
    assert client.post(revoke).status_code == 403
    assert client.post("/transactional/categories/new/", {"name": "x"}).status_code == 403
    assert RelayCredential.objects.get().active


def test_anonymous_visitors_are_sent_to_log_in(client: Client) -> None:
    for url in ("/transactional/credentials/", "/transactional/categories/"):
        assert client.get(url)["Location"].startswith("/login/?next=")
    assert client.post("/transactional/credentials/new/", new_credential()).status_code == 302
    assert not RelayCredential.objects.exists()


def test_a_category_is_created_and_edited(teammate_client: Client) -> None:
    answer = teammate_client.post(
        "/transactional/categories/new/",
        {"name": "Password-Reset", "description": "Resets", "exempt_from_unsubscribes": "on"},
    )
    assert answer.status_code == 302
    category = Category.objects.get()
    assert (category.name, category.exempt_from_unsubscribes) == ("password-reset", True)
    teammate_client.post(
        f"/transactional/categories/{category.pk}/", {"name": "resets", "marketing": ""}
    )
    category.refresh_from_db()
    assert (category.name, category.exempt_from_unsubscribes) == ("resets", False)


def test_a_category_cannot_be_marketing_and_exempt(teammate_client: Client) -> None:
    answer = teammate_client.post(
        "/transactional/categories/new/",
        {"name": "digest", "marketing": "on", "exempt_from_unsubscribes": "on"},
    )
    assert answer.status_code == 400
    assert "cannot be both" in answer.context["form"].errors["exempt_from_unsubscribes"][0]
    assert not Category.objects.exists()


def test_a_category_name_must_be_a_slug_and_unique(teammate_client: Client) -> None:
    Category.objects.create(name="receipts")
    taken = teammate_client.post("/transactional/categories/new/", {"name": "receipts"})
    assert "exists" in taken.context["form"].errors["name"][0]
    spaced = teammate_client.post("/transactional/categories/new/", {"name": "my receipts"})
    assert "hyphens" in spaced.context["form"].errors["name"][0]
