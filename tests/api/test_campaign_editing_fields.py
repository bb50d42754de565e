"""The API's campaign fields for writing: preheader, editor mode, Markdown source, tags."""

from __future__ import annotations

from delivery.models import SmtpServer
from subscribers.models import MailingList
from tests.api.client import ApiClient


def test_a_markdown_campaign_is_created_and_edited_with_tags_and_a_preheader(
    owner_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    created = owner_api.post(
        "/campaigns",
        {
            "name": "Spring",
            "subject": "Hi",
            "from_email": "News <news@example.com>",
            "html": "",
            "editor": "markdown",
            "source": "# Hi {{ subscriber.name }}",
            "preheader": "What is new",
            "tags": ["promo", "spring"],
            "public_archive": True,
            "lists": [newsletter.pk],
            "smtp_server": smtp_server.pk,
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["editor"], body["preheader"], body["public_archive"]) == (
        "markdown",
        "What is new",
        True,
    )
    campaign_id = body["id"]
    patched = owner_api.patch(f"/campaigns/{campaign_id}", {"tags": ["promo"], "preheader": ""})
    assert patched.status_code == 200
    assert (patched.json()["tags"], patched.json()["preheader"]) == (["promo"], "")
    assert patched.json()["source"] == "# Hi {{ subscriber.name }}"


def test_an_unknown_editor_mode_is_a_400(
    owner_api: ApiClient, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = owner_api.post(
        "/campaigns",
        {
            "name": "x",
            "subject": "x",
            "from_email": "a@example.com",
            "html": "<p>x</p>",
            "editor": "word",
            "lists": [newsletter.pk],
            "smtp_server": smtp_server.pk,
        },
    )
    assert response.status_code in (400, 422)


def test_the_campaign_list_gives_each_campaigns_tags(teammate_api: ApiClient) -> None:
    from campaigns.models import Campaign, Tag

    spring = Campaign.objects.create(
        name="Spring", subject="Hi", from_email="n@example.com", html="x"
    )
    spring.tags.set([Tag.objects.create(name="promo"), Tag.objects.create(name="2027")])
    Campaign.objects.create(name="Plain", subject="Hi", from_email="n@example.com", html="x")

    items = teammate_api.get("/campaigns").json()["items"]

    assert {item["name"]: sorted(item["tags"]) for item in items} == {
        "Spring": ["2027", "promo"],
        "Plain": [],
    }
