"""Deleting, archiving and duplicating campaigns; layouts; deleting sending servers."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Template
from campaigns.services import create_layout, snapshot_audience
from delivery.models import Delivery, SmtpServer
from delivery.services import create_esp_server
from subscribers.models import MailingList, Subscriber

LAYOUT = "<html><body>\n{% block content %}{% endblock %}\n<footer>Bye</footer>\n</body></html>"


def _set_status(campaign: Campaign, status: str) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)


def test_a_draft_is_deleted_after_its_confirmation_page(
    teammate_client: Client, campaign: Campaign
) -> None:
    url = reverse("campaigns:delete", args=[campaign.pk])
    page = teammate_client.get(url).content.decode()
    assert "It is a draft: nothing was sent, so no figures change." in page
    assert Campaign.objects.filter(pk=campaign.pk).exists()
    response = teammate_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("campaigns:index")
    assert "Campaign “Spring news” deleted." in response.content.decode()
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("status", ["scheduled", "running", "paused"])
def test_a_live_campaign_is_not_deleted(
    teammate_client: Client, campaign: Campaign, status: str
) -> None:
    _set_status(campaign, status)
    url = reverse("campaigns:delete", args=[campaign.pk])
    page = teammate_client.get(url).content.decode()
    assert "cannot be deleted.</strong> Cancel it first" in page
    assert "Delete campaign</button>" not in page
    response = teammate_client.post(url, follow=True)
    assert f"Cannot delete: A {status} campaign cannot be deleted" in response.content.decode()
    assert Campaign.objects.filter(pk=campaign.pk).exists()


def test_a_finished_campaign_offers_archive_not_delete(
    teammate_client: Client, campaign: Campaign, alice: Subscriber
) -> None:
    snapshot_audience(campaign)
    _set_status(campaign, "finished")
    detail = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert ">Archive</button>" in detail
    assert reverse("campaigns:delete", args=[campaign.pk]) not in detail

    teammate_client.post(reverse("campaigns:archive", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.archived_at is not None
    assert Delivery.objects.filter(campaign=campaign).count() == 1

    index = teammate_client.get(reverse("campaigns:index"))
    assert list(index.context["page"].items) == []
    archived = teammate_client.get(reverse("campaigns:index"), {"archived": "1"})
    assert list(archived.context["page"].items) == [campaign]

    teammate_client.post(reverse("campaigns:unarchive", args=[campaign.pk]))
    assert list(teammate_client.get(reverse("campaigns:index")).context["page"].items) == [campaign]


def test_a_draft_cannot_be_archived(teammate_client: Client, campaign: Campaign) -> None:
    response = teammate_client.post(reverse("campaigns:archive", args=[campaign.pk]), follow=True)
    assert "Cannot archive: A draft campaign cannot be archived" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.archived_at is None


def test_duplicating_opens_the_new_draft(teammate_client: Client, campaign: Campaign) -> None:
    response = teammate_client.post(reverse("campaigns:duplicate", args=[campaign.pk]), follow=True)
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert response.redirect_chain[-1][0] == reverse("campaigns:detail", args=[copy.pk])
    assert "Duplicated as “Copy of Spring news”, a new draft." in response.content.decode()
    assert copy.created_by is not None


def test_the_campaign_index_stays_at_a_fixed_number_of_queries(
    teammate_client: Client,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    campaign: Campaign,
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(10):
        teammate_client.post(reverse("campaigns:duplicate", args=[campaign.pk]))
    Campaign.objects.update(status="finished")
    Campaign.objects.filter(pk=campaign.pk).update(archived_at="2026-01-01T00:00Z")
    with django_assert_max_num_queries(6):
        response = teammate_client.get(reverse("campaigns:index"), {"archived": "1"})
    assert len(response.context["page"].items) == 1
    with django_assert_max_num_queries(6):
        response = teammate_client.get(reverse("campaigns:index"))
    assert len(response.context["page"].items) == 10


def test_layouts_are_created_listed_and_offered_on_the_campaign_form(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(
        reverse("layouts:create"), {"name": "Plain", "html": LAYOUT}, follow=True
    )
    assert "Layout “Plain” created." in response.content.decode()
    layout = Template.objects.get(name="Plain")
    index = teammate_client.get(reverse("layouts:index")).content.decode()
    assert reverse("layouts:edit", args=[layout.pk]) in index
    form_page = teammate_client.get(reverse("campaigns:create")).content.decode()
    assert f'<option value="{layout.pk}">Plain</option>' in form_page
    assert reverse("layouts:create") in form_page and reverse("layouts:index") in form_page


def test_a_broken_layout_is_shown_with_its_line(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(
        reverse("layouts:create"), {"name": "Broken", "html": "<p>\n{% for %}\n"}
    )
    assert response.status_code == 200
    (error,) = response.context["form"].errors["html"]
    assert error.startswith("Line 2: ")
    assert not Template.objects.filter(name="Broken").exists()


def test_editing_a_layout(teammate_client: Client, db: None) -> None:
    layout = create_layout(name="Plain", html=LAYOUT)
    url = reverse("layouts:edit", args=[layout.pk])
    assert teammate_client.get(url).context["form"]["html"].value() == LAYOUT
    teammate_client.post(url, {"name": "Plainer", "html": LAYOUT.replace("Bye", "Ciao")})
    layout.refresh_from_db()
    assert (layout.name, "Ciao" in layout.html) == ("Plainer", True)


def test_a_layout_in_use_is_not_deleted(teammate_client: Client, campaign: Campaign) -> None:
    layout = create_layout(name="Plain", html=LAYOUT)
    Campaign.objects.filter(pk=campaign.pk).update(template=layout)
    url = reverse("layouts:delete", args=[layout.pk])
    page = teammate_client.get(url).content.decode()
    assert "1 campaign uses this layout" in page and "“Spring news”" in page
    assert "Delete layout</button>" not in page
    response = teammate_client.post(url, follow=True)
    assert "Cannot delete: the layout is used by “Spring news”" in response.content.decode()
    assert Template.objects.filter(pk=layout.pk).exists()

    Campaign.objects.update(template=None)
    teammate_client.post(url)
    assert not Template.objects.filter(pk=layout.pk).exists()


def test_a_server_no_campaign_uses_is_deleted_after_confirmation(
    teammate_client: Client, db: None
) -> None:
    server = SmtpServer.objects.create(name="Spare", host="127.0.0.1", port=2525, security="none")
    edit_page = teammate_client.get(reverse("delivery:smtp_edit", args=[server.pk]))
    assert reverse("delivery:server_delete", args=[server.pk]) in edit_page.content.decode()
    url = reverse("delivery:server_delete", args=[server.pk])
    assert "No campaign uses it." in teammate_client.get(url).content.decode()
    response = teammate_client.post(url, follow=True)
    assert response.redirect_chain[-1][0] == reverse("delivery:smtp_index")
    assert not SmtpServer.objects.exists()


def test_a_server_in_use_is_refused_naming_the_campaign(
    teammate_client: Client, campaign: Campaign, smtp_server: SmtpServer
) -> None:
    url = reverse("delivery:server_delete", args=[smtp_server.pk])
    page = teammate_client.get(url).content.decode()
    assert "1 campaign sends or sent through it: “Spring news”." in page
    response = teammate_client.post(url, follow=True)
    assert response.status_code == 200
    assert "Cannot delete: “Relay” is used by 1 campaign: “Spring news”" in (
        response.content.decode()
    )
    assert SmtpServer.objects.filter(pk=smtp_server.pk).exists()


def test_the_layout_index_is_one_query_whatever_the_number_of_layouts(
    teammate_client: Client, campaign: Campaign, django_assert_max_num_queries: Any
) -> None:
    for i in range(12):
        layout = create_layout(name=f"Layout {i}", html=LAYOUT)
    Campaign.objects.filter(pk=campaign.pk).update(template=layout)
    # Session, user, and the layouts with their campaign counts.
    with django_assert_max_num_queries(3):
        response = teammate_client.get(reverse("layouts:index"))
    page = response.content.decode()
    assert page.count('href="/layouts/') >= 12


def test_an_esp_channel_is_deleted_from_its_edit_page(teammate_client: Client, db: None) -> None:
    channel = create_esp_server(
        name="Postmark", esp="postmark", credentials={"server_token": "pm-token"}
    )
    edit_page = teammate_client.get(reverse("delivery:smtp_edit", args=[channel.pk]))
    assert "Delete channel…" in edit_page.content.decode()
    url = reverse("delivery:server_delete", args=[channel.pk])
    page = teammate_client.get(url).content.decode()
    assert "its stored credentials and limits go with it" in page
    assert "Delete channel</button>" in page
    teammate_client.post(url)
    assert not SmtpServer.objects.exists()
