"""Who may call the API: staff tokens only; everyone else gets 401 or 403."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.utils import timezone

from api.models import ApiToken
from api.services import authenticate, create_token, forget_recent_tokens, hash_token
from tests.api.client import ApiClient
from tests.api.routes import ROUTES


def concrete(path: str) -> str:
    return path.replace("{campaign_id}", "1").replace("{domain_limit_id}", "1")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_callers_get_401_on_every_route(
    anonymous_api: ApiClient, method: str, path: str
) -> None:
    response = anonymous_api.request(method, concrete(path))
    assert response.status_code == 401
    assert response.json()["detail"] == "Unauthorized"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_an_outsiders_token_gets_403_on_every_route(
    outsider_api: ApiClient, method: str, path: str
) -> None:
    response = outsider_api.request(method, concrete(path))
    assert response.status_code == 403
    assert "not on the team" in response.json()["detail"]


def test_an_unknown_token_gets_401(db: None) -> None:
    response = ApiClient("pst_not-a-real-token").get("/lists")
    assert response.status_code == 401


def test_a_token_sent_with_another_scheme_gets_401(owner: User) -> None:
    token = create_token(user=owner)
    client = ApiClient()
    response = client._client.get(
        "/api/v1/lists", headers={"Authorization": f"Token {token}"}, secure=True
    )
    assert response.status_code == 401


def test_a_teammates_token_is_accepted(teammate_api: ApiClient) -> None:
    assert teammate_api.get("/lists").status_code == 200


def test_a_deactivated_accounts_token_gets_401(teammate: User, teammate_api: ApiClient) -> None:
    teammate.is_active = False
    teammate.save()
    assert teammate_api.get("/lists").status_code == 401


def test_a_checked_token_is_trusted_for_a_few_seconds_then_checked_again(
    teammate: User, teammate_api: ApiClient, settings: Any
) -> None:
    assert teammate_api.get("/lists").status_code == 200
    teammate.is_active = False
    teammate.save()
    # Within API_TOKEN_CACHE_SECONDS this process answers from memory...
    assert teammate_api.get("/lists").status_code == 200
    settings.POSTINO = {**settings.POSTINO, "API_TOKEN_CACHE_SECONDS": 0}
    forget_recent_tokens()
    # ...then the database says no.
    assert teammate_api.get("/lists").status_code == 401


def test_only_a_hash_of_the_token_is_stored(owner: User) -> None:
    token = create_token(user=owner, name="ci")
    stored = ApiToken.objects.get(user=owner)
    assert token.startswith("pst_")
    assert stored.key_hash == hash_token(token) != token
    assert token.startswith(stored.prefix)
    assert stored.name == "ci"


def test_last_used_is_recorded_at_most_once_a_minute(owner: User, settings: Any) -> None:
    # Each call below reads the database (not this process's few seconds of memory).
    settings.POSTINO = {**settings.POSTINO, "API_TOKEN_CACHE_SECONDS": 0}
    token = create_token(user=owner)
    assert authenticate(token) == owner
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None

    recently = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.update(last_used_at=recently)
    authenticate(token)
    assert ApiToken.objects.get().last_used_at == recently

    long_ago = timezone.now() - timedelta(minutes=5)
    ApiToken.objects.update(last_used_at=long_ago)
    authenticate(token)
    last_used = ApiToken.objects.get().last_used_at
    assert last_used is not None and last_used > long_ago


def test_create_api_token_prints_a_token_that_works(teammate: User) -> None:
    out = StringIO()
    call_command("create_api_token", "teammate", "--name", "deploy", stdout=out)
    token = out.getvalue().strip()
    assert "\n" not in token
    assert ApiToken.objects.get().name == "deploy"
    assert ApiClient(token).get("/lists").status_code == 200


def test_create_api_token_works_for_the_admin_made_by_createsuperuser_noinput(
    db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "admin@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long admin password")
    call_command("createsuperuser", interactive=False, stdout=StringIO())
    out = StringIO()
    call_command("create_api_token", "admin", stdout=out)
    assert ApiClient(out.getvalue().strip()).get("/campaigns").status_code == 200


def test_create_api_token_refuses_an_unknown_username(db: None) -> None:
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody", stdout=StringIO())
    assert not ApiToken.objects.exists()


def test_create_api_token_refuses_an_account_that_is_not_staff(outsider: User) -> None:
    with pytest.raises(CommandError, match="not an active staff account"):
        call_command("create_api_token", "outsider", stdout=StringIO())
