"""The edit, delete, archive and duplicate pages: anonymous → login, outsider → 403."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Template
from campaigns.services import create_layout
from delivery.models import SmtpServer
from subscribers.models import MailingList, Subscriber

LAYOUT = "{% block content %}{% endblock %}"
DEFAULT_LAYOUTS = 2  # shipped by the campaigns migration 0008


@pytest.fixture
def layout(db: None) -> Template:
    return create_layout(name="Plain", html=LAYOUT)


@pytest.fixture
def page_urls(
    newsletter: MailingList,
    alice: Subscriber,
    campaign: Campaign,
    smtp_server: SmtpServer,
    layout: Template,
) -> list[str]:
    return [
        reverse("subscribers:edit", args=[alice.pk]),
        reverse("subscribers:delete", args=[alice.pk]),
        reverse("subscribers:list_edit", args=[newsletter.pk]),
        reverse("subscribers:list_delete", args=[newsletter.pk]),
        reverse("campaigns:delete", args=[campaign.pk]),
        reverse("layouts:index"),
        reverse("layouts:create"),
        reverse("layouts:edit", args=[layout.pk]),
        reverse("layouts:delete", args=[layout.pk]),
        reverse("delivery:server_delete", args=[smtp_server.pk]),
    ]


@pytest.fixture
def post_only_urls(campaign: Campaign) -> list[str]:
    return [
        reverse("campaigns:archive", args=[campaign.pk]),
        reverse("campaigns:unarchive", args=[campaign.pk]),
        reverse("campaigns:duplicate", args=[campaign.pk]),
    ]


def _writable(urls: list[str]) -> list[str]:
    return [url for url in urls if url != reverse("layouts:index")]


def _nothing_changed(campaign: Campaign) -> bool:
    return (
        Subscriber.objects.count() == 1
        and MailingList.objects.count() == 1
        and list(Campaign.objects.all()) == [campaign]
        and Template.objects.filter(name="Plain").count() == 1
        # Besides Postino's own default layouts, none made or gone.
        and Template.objects.exclude(name="Plain").count() == DEFAULT_LAYOUTS
        and SmtpServer.objects.count() == 1
    )


def test_anonymous_visitors_are_sent_to_login(
    client: Client, page_urls: list[str], post_only_urls: list[str], campaign: Campaign
) -> None:
    for url in page_urls:
        response = client.get(url)
        assert response["Location"] == f"{reverse('login')}?next={url}", url
    for url in _writable(page_urls) + post_only_urls:
        assert client.post(url).status_code == 302, url
    assert _nothing_changed(campaign)


def test_outsiders_are_refused(
    outsider_client: Client, page_urls: list[str], post_only_urls: list[str], campaign: Campaign
) -> None:
    for url in page_urls:
        assert outsider_client.get(url).status_code == 403, url
    for url in _writable(page_urls) + post_only_urls:
        assert outsider_client.post(url).status_code == 403, url
    assert _nothing_changed(campaign)


def test_teammates_see_every_page(teammate_client: Client, page_urls: list[str]) -> None:
    for url in page_urls:
        assert teammate_client.get(url).status_code == 200, url


def test_state_changes_refuse_get(teammate_client: Client, post_only_urls: list[str]) -> None:
    for url in post_only_urls:
        assert teammate_client.get(url).status_code == 405, url


def test_a_delete_needs_a_csrf_token(teammate: User, alice: Subscriber) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)
    assert client.post(reverse("subscribers:delete", args=[alice.pk])).status_code == 403
    assert Subscriber.objects.filter(pk=alice.pk).exists()
