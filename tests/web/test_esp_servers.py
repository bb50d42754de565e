"""The ESP channel pages, and ESP channels beside SMTP servers on the list."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from delivery.models import SmtpServer
from delivery.services import create_esp_server

TOKEN = "pm-very-secret-server-token"


def _form(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Postmark",
        "esp": "postmark",
        "credentials": f"server_token = {TOKEN}",
        "max_connections": "4",
        "messages_per_second": "20",
    }
    data.update(overrides)
    return data


@pytest.fixture
def postmark(db: None) -> SmtpServer:
    return create_esp_server(
        name="Postmark", esp="postmark", credentials={"server_token": TOKEN}, messages_per_day=900
    )


def _edit_url(server: SmtpServer) -> str:
    return reverse("delivery:smtp_edit", args=[server.pk])


def test_anonymous_visitors_are_sent_to_login(client: Client, postmark: SmtpServer) -> None:
    for url in (reverse("delivery:esp_create"), _edit_url(postmark)):
        for response in (client.get(url), client.post(url, _form(name="Hijack"))):
            assert response.status_code == 302, url
            assert response["Location"] == f"{reverse('login')}?next={url}"
    assert not SmtpServer.objects.filter(name="Hijack").exists()


def test_outsiders_are_refused(outsider_client: Client, postmark: SmtpServer) -> None:
    for url in (reverse("delivery:esp_create"), _edit_url(postmark)):
        assert outsider_client.get(url).status_code == 403, url
        assert outsider_client.post(url, _form(name="Hijack")).status_code == 403, url
    assert not SmtpServer.objects.filter(name="Hijack").exists()


def test_the_add_page_shows_which_settings_each_esp_takes(
    teammate_client: Client, db: None
) -> None:
    page = teammate_client.get(reverse("delivery:esp_create")).content.decode()
    assert '<option value="postmark">Postmark</option>' in page
    assert '<tr data-esp="postmark">' in page
    assert "<code>server_token</code>" in page
    assert "<code>secret_key</code>" in page  # Mailjet's second required key
    assert 'data-role="limits"' in page and 'data-role="warmup"' in page


def test_adding_an_esp_channel_stores_its_credentials_encrypted(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(
        reverse("delivery:esp_create"),
        _form(credentials=f"# from the Postmark console\nServer_Token = {TOKEN}\n\n"),
        follow=True,
    )
    server = SmtpServer.objects.get()
    assert (server.kind, server.esp, server.messages_per_second) == ("esp", "postmark", 20)
    assert server.esp_credentials == {"server_token": TOKEN}
    assert TOKEN not in server.esp_credentials_encrypted
    assert response.redirect_chain[-1][0] == _edit_url(server)
    assert TOKEN not in response.content.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"credentials": "api_url = https://pm.example"},
            "credentials",
            "Postmark needs server_token.",
        ),
        (
            {"credentials": f"server_token = {TOKEN}\ncolour = blue"},
            "credentials",
            "Postmark does not take colour; it takes server_token, api_url.",
        ),
        (
            {"credentials": f"server_token {TOKEN}"},
            "credentials",
            "Line 1: write each setting as key = value, e.g. api_key = abc123.",
        ),
        ({"credentials": ""}, "credentials", "Postmark needs server_token."),
        (
            {"esp": "pigeon"},
            "esp",
            "Select a valid choice. pigeon is not one of the available choices.",
        ),
        ({"messages_per_second": "0"}, "messages_per_second", "Must be greater than zero."),
    ],
)
def test_errors_land_beside_their_fields_and_secrets_are_not_echoed(
    teammate_client: Client, db: None, overrides: dict[str, str], field: str, message: str
) -> None:
    response = teammate_client.post(reverse("delivery:esp_create"), _form(**overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    page = response.content.decode()
    assert f'id="field-{field}"' in page and message.replace("'", "&#x27;") in page
    assert TOKEN not in page
    assert not SmtpServer.objects.exists()


def test_an_amazon_ses_channel_may_use_the_workers_aws_credentials(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.post(
        reverse("delivery:esp_create"), _form(name="SES", esp="amazon_ses", credentials="")
    )
    assert response.status_code == 302
    assert SmtpServer.objects.get().esp_credentials == {}


def test_the_edit_page_never_shows_the_stored_credentials(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    response = teammate_client.get(_edit_url(postmark))
    page = response.content.decode()
    assert TOKEN not in page
    assert postmark.esp_credentials_encrypted not in page
    assert response.context["form"]["credentials"].value() in (None, "")
    assert "Replace credentials" in page
    assert "Leave this empty to keep them" in page
    assert '<option value="postmark" selected>Postmark</option>' in page


def test_the_edit_page_offers_no_connection_test_but_says_when_credentials_are_checked(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    page = teammate_client.get(_edit_url(postmark)).content.decode()
    assert "Test connection" not in page
    assert reverse("delivery:smtp_test", args=[postmark.pk]) not in page
    assert "ESP credentials are checked on the first send" in page
    assert 'data-role="effective-daily-limit">900 messages<' in page


def test_testing_an_esp_channel_explains_why_not(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    response = teammate_client.post(reverse("delivery:smtp_test", args=[postmark.pk]), follow=True)
    assert response.redirect_chain[-1][0] == _edit_url(postmark)
    assert "is an ESP channel (Postmark), not an SMTP server" in response.content.decode()


def test_saving_with_empty_credentials_keeps_the_stored_ones(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    response = teammate_client.post(
        _edit_url(postmark), _form(name="Postmark EU", credentials="", messages_per_day="")
    )
    assert response.status_code == 302
    postmark.refresh_from_db()
    assert postmark.name == "Postmark EU"
    assert postmark.esp_credentials == {"server_token": TOKEN}
    assert postmark.messages_per_day is None


def test_new_credentials_replace_the_stored_ones(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    teammate_client.post(_edit_url(postmark), _form(credentials="server_token = rotated"))
    postmark.refresh_from_db()
    assert postmark.esp_credentials == {"server_token": "rotated"}


def test_switching_esp_asks_for_its_credentials_beside_the_field(
    teammate_client: Client, postmark: SmtpServer
) -> None:
    response = teammate_client.post(_edit_url(postmark), _form(esp="sendgrid", credentials=""))
    assert response.context["form"].errors["credentials"] == [
        "Enter the credentials for SendGrid: the stored ones are for Postmark."
    ]
    postmark.refresh_from_db()
    assert postmark.esp == "postmark"


def test_the_list_shows_both_kinds_in_a_bounded_number_of_queries(
    teammate_client: Client,
    smtp_server: SmtpServer,
    postmark: SmtpServer,
    django_assert_max_num_queries: Any,
) -> None:
    for n in range(10):
        create_esp_server(name=f"SendGrid {n}", esp="sendgrid", credentials={"api_key": "SG.k"})
    url = reverse("delivery:smtp_index")
    teammate_client.get(url)  # warm the session and caches

    with django_assert_max_num_queries(4):
        response = teammate_client.get(url)

    page = response.content.decode()
    assert "<h1>Sending servers</h1>" in page
    assert page.count('<tr data-kind="esp">') == 11
    assert page.count('<tr data-kind="smtp">') == 1
    assert "<code>smtp.example.com:587</code>" in page
    assert "<td>Postmark</td>" in page and "<td>SendGrid</td>" in page
    # Only the SMTP server can be tested; no page shows a secret.
    assert page.count(">Test connection</button>") == 1
    assert reverse("delivery:esp_create") in page
    assert TOKEN not in page and "SG.k" not in page


def test_campaign_forms_name_esp_channels_by_their_esp(
    teammate_client: Client, smtp_server: SmtpServer, postmark: SmtpServer
) -> None:
    page = teammate_client.get(reverse("campaigns:create")).content.decode()
    assert f'<option value="{postmark.pk}">Postmark (ESP): Postmark</option>' in page
    assert TOKEN not in page
