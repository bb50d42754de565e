"""GET/POST /domain-limits, PUT/DELETE /domain-limits/{id}."""

from __future__ import annotations

from typing import Any

import pytest

from delivery.models import DomainLimit
from tests.api.client import ApiClient


def test_the_defaults_are_listed_by_domain(owner_api: ApiClient) -> None:
    response = owner_api.get("/domain-limits")
    assert response.status_code == 200
    items = response.json()["items"]
    domains = [item["domain"] for item in items]
    assert domains == sorted(domains)
    gmail = next(item for item in items if item["domain"] == "gmail.com")
    assert gmail["messages_per_minute"] == 1200


def test_creating_a_limit_answers_201_with_the_normalised_domain(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/domain-limits", {"domain": "Bücher.Example", "messages_per_minute": 20}
    )
    assert response.status_code == 201
    body = response.json()
    assert body["domain"] == "xn--bcher-kva.example"
    assert DomainLimit.objects.get(pk=body["id"]).messages_per_minute == 20


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"domain": "gmail.com", "messages_per_minute": 5}, "domain"),
        ({"domain": "not a domain", "messages_per_minute": 5}, "domain"),
        ({"domain": "example.com", "messages_per_minute": 0}, "messages_per_minute"),
        ({"domain": "example.com"}, "messages_per_minute"),
        ({"messages_per_minute": 5}, "domain"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    owner_api: ApiClient, body: dict[str, Any], field: str
) -> None:
    response = owner_api.post("/domain-limits", body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_duplicate_says_which_domain_already_has_a_limit(owner_api: ApiClient) -> None:
    response = owner_api.post("/domain-limits", {"domain": "GMAIL.com", "messages_per_minute": 5})
    assert response.json()["errors"][0]["message"] == (
        "gmail.com already has a limit; edit that one instead."
    )


def test_updating_a_limit_answers_200(owner_api: ApiClient) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    response = owner_api.put(
        f"/domain-limits/{gmail.pk}", {"domain": "gmail.com", "messages_per_minute": 300}
    )
    assert response.status_code == 200
    assert response.json()["messages_per_minute"] == 300
    gmail.refresh_from_db()
    assert gmail.messages_per_minute == 300


def test_updating_onto_another_limits_domain_is_400(owner_api: ApiClient) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    response = owner_api.put(
        f"/domain-limits/{gmail.pk}", {"domain": "yahoo.com", "messages_per_minute": 300}
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["domain"]


def test_deleting_a_limit_answers_204(owner_api: ApiClient) -> None:
    gmail = DomainLimit.objects.get(domain="gmail.com")
    response = owner_api.delete(f"/domain-limits/{gmail.pk}")
    assert response.status_code == 204
    assert not DomainLimit.objects.filter(pk=gmail.pk).exists()


def test_an_unknown_limit_is_404(owner_api: ApiClient) -> None:
    assert owner_api.delete("/domain-limits/999999").status_code == 404
    response = owner_api.put("/domain-limits/999999", {"domain": "x.com", "messages_per_minute": 1})
    assert response.status_code == 404
    assert response.json()["detail"] == "Domain limit 999999 not found."
