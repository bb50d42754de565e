"""Segment pages without a browser: the form as plain JSON, the count endpoint,
errors by place, and deleting."""

from __future__ import annotations

import json

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers.models import MailingList, Segment, Subscriber

GMAIL = {"match": "all", "conditions": [{"field": "domain", "op": "eq", "value": "gmail.com"}]}


def post_json(client: Client, url: str, body: object) -> dict[str, object]:
    response = client.post(url, json.dumps(body), content_type="application/json")
    return {"status": response.status_code, **response.json()}


def test_the_count_endpoint_counts_or_names_each_problem(teammate_client: Client) -> None:
    Subscriber.objects.create(email="a@gmail.com")
    Subscriber.objects.create(email="b@example.com")
    url = reverse("segments:count")
    assert post_json(teammate_client, url, GMAIL) == {
        "status": 200,
        "count": 1,
        "summary": "domain is gmail.com",
    }
    bad = {"match": "all", "conditions": [GMAIL["conditions"][0], {"field": "list", "op": "eq"}]}
    assert post_json(teammate_client, url, bad) == {
        "status": 400,
        "errors": [
            {"field": "conditions.2.value", "message": "Give a list id, or a list of list ids."}
        ],
    }
    response = teammate_client.post(url, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "The body is not JSON."


def test_the_count_endpoint_needs_the_csrf_token(teammate: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)
    response = client.post(
        reverse("segments:count"), json.dumps(GMAIL), content_type="application/json"
    )
    assert response.status_code == 403


def test_the_form_works_without_javascript_and_reports_by_condition(
    teammate_client: Client,
) -> None:
    url = reverse("segments:create")
    response = teammate_client.post(url, {"name": "Gmail", "definition": "{broken"})
    assert response.status_code == 200
    assert "Line 1, column 2: Expecting property name enclosed in double quotes." in response.text

    bad = {"conditions": [{"field": "attributes.age", "op": "gt", "value": "x", "extra": 1}]}
    response = teammate_client.post(url, {"name": "Gmail", "definition": json.dumps(bad)})
    assert "Condition 1: Unknown keys: extra." in response.text
    # The builder gets them by place, to mark the row.
    assert '"field": "conditions.1", "message": "Unknown keys: extra."' in response.text

    response = teammate_client.post(url, {"name": "Gmail", "definition": json.dumps(GMAIL)})
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:detail", args=[segment.pk])
    assert segment.definition == GMAIL
    page = teammate_client.get(response["Location"]).text
    assert "domain is gmail.com" in page

    response = teammate_client.post(url, {"name": "gmail", "definition": json.dumps(GMAIL)})
    assert "A segment with this name already exists." in response.text


def test_a_segment_in_use_is_not_deleted(teammate_client: Client, campaign: Campaign) -> None:
    segment = Segment.objects.create(name="Gmail", definition=GMAIL)
    campaign.excluded_segments.add(segment)
    response = teammate_client.post(reverse("segments:delete", args=[segment.pk]), follow=True)
    assert (
        "Cannot delete: Campaigns that have not started use this segment: “Spring news”."
        in response.text
    )
    assert Segment.objects.exists()
    campaign.excluded_segments.clear()
    teammate_client.post(reverse("segments:delete", args=[segment.pk]))
    assert not Segment.objects.exists()


def test_a_campaign_form_offers_segments_once_there_are_some(
    teammate_client: Client, newsletter: MailingList
) -> None:
    assert "Also send to segments" not in teammate_client.get(reverse("campaigns:create")).text
    Segment.objects.create(name="Gmail", definition=GMAIL)
    assert "Also send to segments" in teammate_client.get(reverse("campaigns:create")).text
