"""Extra SMTP servers, weights and pause thresholds on the campaign pages."""

from __future__ import annotations

import html
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import create_campaign, extra_servers_of
from delivery.models import SmtpServer
from delivery.services import create_smtp_server
from subscribers.models import MailingList


@pytest.fixture
def backup(db: None) -> SmtpServer:
    return create_smtp_server(name="Backup", host="smtp2.example.com", port=587)


def _form_data(
    newsletter: MailingList, smtp_server: SmtpServer, rows: list[tuple[str, str]], **extra: Any
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Autumn news",
        "subject": "News",
        "from_email": "News <news@example.com>",
        "reply_to": "",
        "lists": [newsletter.pk],
        "smtp_server": smtp_server.pk,
        "smtp_weight": "1",
        "template": "",
        "html": "<p>Hello</p>",
        "text": "",
        "max_error_rate": "",
        "max_errors": "",
        "servers-TOTAL_FORMS": str(len(rows)),
        "servers-INITIAL_FORMS": "0",
    }
    for i, (server, weight) in enumerate(rows):
        data[f"servers-{i}-smtp_server"] = server
        data[f"servers-{i}-weight"] = weight
    data.update(extra)
    return data


def test_the_form_shows_the_defaults_from_settings(
    teammate_client: Client, db: None, settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "MAX_ERROR_RATE": 0.075, "MAX_CONSECUTIVE_FAILURES": 42}
    page = teammate_client.get(reverse("campaigns:create")).content.decode()
    assert "Empty: the default, 7.5%." in page
    assert "Empty: the default, 42." in page
    assert page.count('data-role="extra-server-row"') == 2


def test_a_campaign_is_saved_with_extra_servers_weights_and_thresholds(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, backup: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(
            newsletter,
            smtp_server,
            [(str(backup.pk), "3"), ("", "1")],
            smtp_weight="2",
            max_error_rate="12.5",
            max_errors="30",
        ),
    )
    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert (campaign.smtp_weight, campaign.max_error_rate, campaign.max_errors) == (2, 0.125, 30)
    assert extra_servers_of(campaign) == [(backup, 3)]


def test_the_main_server_repeated_below_is_reported_beside_the_rows(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(newsletter, smtp_server, [(str(smtp_server.pk), "2")]),
    )
    assert response.status_code == 200
    [error] = response.context["form"].server_errors
    assert error.startswith("Relay is already the main server")
    page = response.content.decode()
    rows = page[page.index('id="field-extra_smtp_servers"') :]
    assert html.escape(error) in rows[: rows.index("</fieldset>")]
    assert not Campaign.objects.exists()


def test_a_row_without_a_weight_is_reported_on_that_row(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, backup: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(newsletter, smtp_server, [("", "1"), (str(backup.pk), "")]),
    )
    rows = response.context["form"].servers
    assert rows[1].errors["weight"] == ["Give this server a weight (1 or more)."]
    assert not Campaign.objects.exists()


@pytest.mark.parametrize("rate", ["-1", "100.5", "lots"])
def test_a_bad_error_rate_is_reported_beside_it(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, rate: str
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server, [], max_error_rate=rate)
    )
    assert "max_error_rate" in response.context["form"].errors


def test_a_zero_weight_for_the_main_server_is_reported_beside_it(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server, [], smtp_weight="0")
    )
    assert response.context["form"].errors["smtp_weight"] == [
        "A weight is a whole number of at least 1."
    ]


def test_the_edit_form_shows_the_stored_servers_and_thresholds(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, backup: SmtpServer
) -> None:
    campaign = create_campaign(
        name="Routed",
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
        smtp_weight=4,
        extra_servers=[(backup, 2)],
        max_error_rate=0.07,
        max_errors=12,
    )
    response = teammate_client.get(reverse("campaigns:edit", args=[campaign.pk]))
    form = response.context["form"]
    assert form["max_error_rate"].value() == "7"
    assert form["max_errors"].value() == 12
    assert form["smtp_weight"].value() == 4
    assert [row["smtp_server"].value() for row in form.servers] == [backup.pk, None, None]
    assert [row["weight"].value() for row in form.servers] == [2, 1, 1]


def test_saving_the_edit_form_replaces_the_extra_servers(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, backup: SmtpServer
) -> None:
    campaign = create_campaign(
        name="Routed",
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
        extra_servers=[(backup, 2)],
    )
    teammate_client.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        _form_data(newsletter, smtp_server, [("", "2")]),
    )
    assert extra_servers_of(campaign) == []


def test_the_detail_page_lists_servers_with_weights_and_the_thresholds(
    teammate_client: Client,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    backup: SmtpServer,
    settings: Any,
) -> None:
    settings.POSTINO = {**settings.POSTINO, "MAX_ERROR_RATE": 0.25, "ERROR_RATE_MIN_SAMPLE": 200}
    campaign = create_campaign(
        name="Routed",
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=smtp_server,
        smtp_weight=3,
        extra_servers=[(backup, 1)],
        max_errors=12,
    )
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    servers = page[page.index('data-role="campaign-servers"') :]
    servers = servers[: servers.index("</dd>")]
    assert 'Relay</a> <span class="muted">weight 3 · about 75% · main' in servers
    assert 'Backup</a> <span class="muted">weight 1 · about 25%' in servers
    thresholds = page[page.index('data-role="thresholds"') :]
    thresholds = " ".join(thresholds[: thresholds.index("</dd>")].split())
    assert "more than 25% of attempts fail (counted after 200 attempts)" in thresholds
    assert "or 12 fail in a row" in thresholds


def test_a_campaign_with_one_server_shows_just_its_name(
    teammate_client: Client, campaign: Campaign
) -> None:
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    servers = page[page.index('data-role="campaign-servers"') :]
    assert "weight" not in servers[: servers.index("</dd>")]
