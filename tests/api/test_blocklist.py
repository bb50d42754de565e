"""/blocklist: add many at once, page through, remove."""

from __future__ import annotations

from subscribers.models import BlocklistEntry
from tests.api.client import ApiClient


def test_entries_are_added_listed_and_removed(teammate_api: ApiClient, db: None) -> None:
    answer = teammate_api.post(
        "/blocklist",
        {"entries": ["bad@example.com", "*.spam.test"], "note": "Found in a complaint"},
    )
    assert answer.status_code == 201, answer.json()
    created = answer.json()["created"]
    assert [(e["kind"], e["value"], e["note"]) for e in created] == [
        ("pattern", "*.spam.test", "Found in a complaint"),
        ("address", "bad@example.com", "Found in a complaint"),
    ]
    again = teammate_api.post("/blocklist", {"entries": ["BAD@example.com"]}).json()
    assert again == {"created": [], "existing": ["bad@example.com"]}

    first = teammate_api.get("/blocklist", {"limit": 1}).json()
    assert [e["value"] for e in first["items"]] == ["bad@example.com"]
    rest = teammate_api.get("/blocklist", {"after": first["next_after"]}).json()
    assert [e["value"] for e in rest["items"]] == ["*.spam.test"]
    assert rest["next_after"] is None
    assert [e["value"] for e in teammate_api.get("/blocklist", {"q": "*."}).json()["items"]] == [
        "*.spam.test"
    ]

    entry = BlocklistEntry.objects.get(value="bad@example.com")
    assert teammate_api.delete(f"/blocklist/{entry.pk}").status_code == 204
    assert teammate_api.delete(f"/blocklist/{entry.pk}").status_code == 404


def test_a_bad_entry_is_named_and_nothing_is_added(teammate_api: ApiClient, db: None) -> None:
    answer = teammate_api.post("/blocklist", {"entries": ["ok@example.com", "*"]})
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"field": "entries.2", "message": "“*” would block every address."}
    ]
    assert not BlocklistEntry.objects.exists()
