"""/segments: saved filters, their counts and exports, and campaigns aimed at them."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList, Segment, Subscriber, Subscription
from tests.api.client import ApiClient
from tests.support.factories import HTML

BERLIN = {
    "name": "Berliners",
    "match": "all",
    "conditions": [{"field": "attributes.city", "op": "eq", "value": "Berlin"}],
}


@pytest.fixture
def people(newsletter: MailingList) -> list[Subscriber]:
    found = [
        Subscriber.objects.create(
            email="ada@example.com", attributes={"city": "Berlin", "age": 36}
        ),
        Subscriber.objects.create(email="bob@example.com", attributes={"city": "Rome"}),
        Subscriber.objects.create(
            email="=cmd@example.com", name="=HYPERLINK()", attributes={"city": "Berlin"}
        ),
    ]
    for person in found:
        Subscription.objects.create(subscriber=person, mailing_list=newsletter, status="confirmed")
    return found


def test_a_segment_is_created_counted_changed_and_deleted(
    teammate_api: ApiClient, people: list[Subscriber]
) -> None:
    created = teammate_api.post("/segments", BERLIN)
    assert created.status_code == 201, created.json()
    body = created.json()
    assert {k: body[k] for k in ("name", "match", "conditions", "last_count")} == {
        "name": "Berliners",
        "match": "all",
        "conditions": BERLIN["conditions"],
        "last_count": None,
    }
    segment_id = body["id"]

    assert teammate_api.get(f"/segments/{segment_id}/count").json() == {"count": 2}
    assert teammate_api.get(f"/segments/{segment_id}").json()["last_count"] == 2

    nested = {
        "match": "any",
        "conditions": [
            {"field": "attributes.age", "op": "gt", "value": 30},
            {"field": "email", "op": "eq", "value": "bob@example.com"},
        ],
    }
    changed = teammate_api.patch(
        f"/segments/{segment_id}",
        {
            "conditions": [
                {"field": "attributes.city", "op": "neq", "value": "Paris"},
                nested,
            ]
        },
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["last_count"] is None  # a new definition forgets the old count
    assert teammate_api.get(f"/segments/{segment_id}/count").json() == {"count": 2}
    assert [s["name"] for s in teammate_api.get("/segments").json()["items"]] == ["Berliners"]

    assert teammate_api.delete(f"/segments/{segment_id}").status_code == 204
    assert not Segment.objects.exists()


def test_conditions_can_be_counted_without_saving(
    teammate_api: ApiClient, people: list[Subscriber]
) -> None:
    answer = teammate_api.post(
        "/segments/count",
        {
            "conditions": [
                {"field": "domain", "op": "eq", "value": "example.com"},
            ]
        },
    )
    assert answer.json() == {"count": 3}


def test_a_bad_segment_names_each_wrong_condition(teammate_api: ApiClient, db: None) -> None:
    answer = teammate_api.post(
        "/segments",
        {
            "name": "",
            "match": "all",
            "conditions": [
                {"field": "attributes.city", "op": "gt"},
                {"field": "list", "op": "in", "value": [999]},
            ],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == [
        {"field": "name", "message": "Give the segment a name."},
        {
            "field": "conditions.1.value",
            "message": "'gt' compares with a number, or with text such as a date.",
        },
    ]
    answer = teammate_api.post(
        "/segments",
        {
            **BERLIN,
            "conditions": [
                {"field": "list", "op": "in", "value": [999]},
            ],
        },
    )
    assert answer.json()["errors"] == [{"field": "conditions", "message": "No list with id 999."}]
    assert teammate_api.get("/segments/404/count").status_code == 404


def test_the_export_streams_matches_with_formulas_defused(
    teammate_api: ApiClient, people: list[Subscriber]
) -> None:
    segment_id = teammate_api.post("/segments", BERLIN).json()["id"]
    response = teammate_api.get(f"/segments/{segment_id}/export")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert lines[0] == "email,name,status,created_at,age,city"
    assert lines[1].startswith("ada@example.com,,enabled,")
    assert lines[1].endswith(",36,Berlin")
    assert lines[2].startswith("'=cmd@example.com,'=HYPERLINK(),enabled,")
    assert len(lines) == 3


def test_campaigns_take_segments_and_exclusions(
    teammate_api: ApiClient, people: list[Subscriber], newsletter: MailingList
) -> None:
    server = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")
    berlin = teammate_api.post("/segments", BERLIN).json()["id"]
    ada = teammate_api.post(
        "/segments",
        {"name": "Ada", "conditions": [{"field": "email", "op": "eq", "value": "ada@example.com"}]},
    ).json()["id"]
    answer = teammate_api.post(
        "/campaigns",
        {
            "name": "Local",
            "subject": "Hi",
            "from_email": "news@postino.example.com",
            "html": HTML,
            "smtp_server": server.pk,
            "segments": [berlin],
            "excluded_segments": [ada],
        },
    )
    assert answer.status_code == 201, answer.json()
    assert (answer.json()["segments"], answer.json()["excluded_segments"]) == ([berlin], [ada])
    campaign_id = answer.json()["id"]
    assert teammate_api.delete(f"/segments/{ada}").status_code == 409

    patched = teammate_api.patch(f"/campaigns/{campaign_id}", {"excluded_segments": []})
    assert patched.json()["excluded_segments"] == []
    assert patched.json()["segments"] == [berlin]
    assert teammate_api.post(f"/campaigns/{campaign_id}/start", {}).status_code == 202
    assert set(
        Campaign.objects.get(pk=campaign_id).deliveries.values_list("subscriber__email", flat=True)
    ) == {"ada@example.com", "=cmd@example.com"}

    unknown = teammate_api.post(
        "/campaigns",
        {
            "name": "Local",
            "subject": "Hi",
            "from_email": "news@postino.example.com",
            "html": HTML,
            "segments": [4040],
        },
    )
    assert unknown.json()["errors"] == [
        {"field": "segments", "message": "Unknown segment id(s): 4040."}
    ]
