"""The editor's live preview endpoint: renders the form's fields as typed, saves nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

URL = reverse("campaigns:live_preview")


def fields(**changes: Any) -> dict[str, Any]:
    return {
        "subject": "Hi {{ subscriber.name }}",
        "preheader": "Inside: spring",
        "editor": "html",
        "html": "<p>Hello {{ subscriber.name }}</p>\n<p>{{ subscriber.attributes.city }}</p>",
        "text": "",
        **changes,
    }


def test_it_answers_the_rendered_parts_for_the_sample_subscriber(teammate_client: Client) -> None:
    answer = teammate_client.post(URL, fields()).json()
    assert answer["ok"] is True
    assert answer["subject"] == "Hi Sample Subscriber"
    assert "<p>Hello Sample Subscriber</p>" in answer["html"]
    assert "Hello Sample Subscriber" in answer["text"]
    assert answer["preheader"] == "Inside: spring"
    assert answer["errors"] == [] and answer["subscriber"] is None
    names = {v["name"] for v in answer["variables"]}
    assert {"subscriber.email", "campaign.name", "unsubscribe_url"} <= names


def test_a_template_error_comes_with_its_field_and_line(teammate_client: Client) -> None:
    answer = teammate_client.post(URL, fields(html="<p>One</p>\n<p>{% if %}</p>\n")).json()
    assert answer["ok"] is False
    assert answer["html"] == ""
    [error] = answer["errors"]
    assert (error["field"], error["line"]) == ("html", 2)


def test_in_markdown_mode_the_error_is_on_the_markdown_line_and_the_html_is_given(
    teammate_client: Client,
) -> None:
    good = teammate_client.post(
        URL, fields(editor="markdown", source="**Hi** {{ subscriber.name }}")
    )
    assert good.json()["body_html"] == "<p><strong>Hi</strong> {{ subscriber.name }}</p>\n"
    bad = teammate_client.post(URL, fields(editor="markdown", source="Hi\n\n{{ x | nope }}"))
    [error] = bad.json()["errors"]
    assert (error["field"], error["line"]) == ("source", 3)


def test_a_chosen_subscriber_gets_their_own_values_and_nothing_is_written(
    teammate_client: Client, campaign: Campaign, alice: Subscriber
) -> None:
    alice.attributes = {"city": "Lisbon"}
    alice.save()
    before = campaign.updated_at
    answer = teammate_client.post(
        URL, fields(email=alice.email.upper(), campaign=campaign.pk)
    ).json()
    assert answer["subscriber"]["email"] == alice.email
    assert "<p>Lisbon</p>" in answer["html"]
    values = {v["name"]: v["value"] for v in answer["variables"]}
    assert values["subscriber.attributes.city"] == "Lisbon"
    assert values["campaign.name"] == campaign.name
    assert values["unsubscribe_url"].startswith("http")
    campaign.refresh_from_db()
    assert campaign.updated_at == before
    assert not Delivery.objects.exists()


def test_an_unknown_subscriber_is_a_400_naming_the_address(teammate_client: Client) -> None:
    response = teammate_client.post(URL, fields(email="nobody@example.com"))
    assert response.status_code == 400
    assert "nobody@example.com" in response.json()["errors"][0]["message"]


def test_only_the_team_may_preview(client: Client, outsider_client: Client) -> None:
    assert client.post(URL, fields()).status_code == 302
    assert outsider_client.post(URL, fields()).status_code == 403


def test_a_post_without_the_csrf_token_is_refused(teammate: Any) -> None:
    guarded = Client(enforce_csrf_checks=True)
    guarded.force_login(teammate)
    assert guarded.post(URL, fields()).status_code == 403


def test_it_answers_only_posts(teammate_client: Client) -> None:
    assert teammate_client.get(URL).status_code == 405


def test_the_edit_page_offers_members_of_the_audience_to_preview_as(
    teammate_client: Client,
) -> None:
    from tests.support.factories import add_audience, make_campaign, make_list

    newsletter = make_list()
    add_audience(newsletter, 3)
    campaign = make_campaign(lists=[newsletter], server=None)

    page = teammate_client.get(f"/campaigns/{campaign.pk}/edit/").content.decode()

    offered = page.split('<datalist id="preview-members">')[1].split("</datalist>")[0]
    assert offered.count("<option") == 3 and "reader2@example.org" in offered
