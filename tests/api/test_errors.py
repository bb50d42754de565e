"""Every error has one shape: {"detail": ..., "errors": [{"field", "message"}]}."""

from __future__ import annotations

from tests.api.client import ApiClient


def test_malformed_json_is_400(owner_api: ApiClient) -> None:
    response = owner_api.post("/lists", raw='{"name": "Weekly",')
    assert response.status_code == 400
    assert response.json() == {"detail": "Cannot parse request body", "errors": []}


def test_a_request_that_fails_validation_is_400_not_422_and_names_each_field(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post("/smtp-servers", {"host": "smtp.example.com", "port": "many"})
    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "The request is invalid."
    assert {e["field"] for e in body["errors"]} == {"name", "port"}
    assert all(e["message"] for e in body["errors"])


def test_a_missing_body_is_400(owner_api: ApiClient) -> None:
    response = owner_api.post("/lists")
    assert response.status_code == 400


def test_nested_fields_are_named_with_their_path(owner_api: ApiClient) -> None:
    response = owner_api.post("/subscribers", {"email": "a@example.com", "lists": ["x"]})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["lists.0"]


def test_a_non_numeric_campaign_id_is_400_naming_it(owner_api: ApiClient) -> None:
    response = owner_api.get("/campaigns/abc")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["campaign_id"]
