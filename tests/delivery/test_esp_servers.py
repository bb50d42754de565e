"""Adding and editing ESP channels (delivery.services), and keeping them apart
from SMTP-only operations."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from delivery.esp_catalog import ESPS
from delivery.models import SmtpServer
from delivery.services import (
    WrongServerKind,
    check_smtp_server,
    create_esp_server,
    create_smtp_server,
    update_esp_server,
    update_smtp_server,
)

pytestmark = pytest.mark.django_db

# Values for every setting an ESP requires, by ESP.
COMPLETE = {
    esp: {name: f"{esp}-{name}-value" for name in spec.required} for esp, spec in ESPS.items()
}


def errors_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return excinfo.value.message_dict


def postmark(**overrides: Any) -> SmtpServer:
    arguments: dict[str, Any] = {
        "name": "Postmark",
        "esp": "postmark",
        "credentials": {"server_token": "pm-secret-token"},
        **overrides,
    }
    return create_esp_server(**arguments)


@pytest.mark.parametrize("esp", sorted(ESPS))
def test_every_esp_is_added_with_its_required_settings(esp: str) -> None:
    server = create_esp_server(name=f"{esp} channel", esp=esp, credentials=COMPLETE[esp])

    server.refresh_from_db()
    assert (server.kind, server.esp) == ("esp", esp)
    assert (server.host, server.username, server.password_encrypted) == ("", "", "")
    assert server.esp_credentials == COMPLETE[esp]


@pytest.mark.parametrize("esp", sorted(esp for esp, spec in ESPS.items() if spec.required))
def test_a_missing_required_setting_is_named_under_credentials(esp: str) -> None:
    spec = ESPS[esp]
    incomplete = dict(COMPLETE[esp])
    del incomplete[spec.required[-1]]

    with pytest.raises(ValidationError) as excinfo:
        create_esp_server(name="Channel", esp=esp, credentials=incomplete)

    assert errors_of(excinfo) == {"credentials": [f"{spec.label} needs {spec.required[-1]}."]}
    assert not SmtpServer.objects.exists()


def test_a_setting_the_esp_does_not_take_is_named_with_the_ones_it_does() -> None:
    with pytest.raises(ValidationError) as excinfo:
        postmark(credentials={"server_token": "t", "api_key": "k"})
    assert errors_of(excinfo) == {
        "credentials": ["Postmark does not take api_key; it takes server_token, api_url."]
    }


def test_an_unknown_esp_is_named_under_esp() -> None:
    with pytest.raises(ValidationError) as excinfo:
        postmark(esp="pigeon")
    message = errors_of(excinfo)["esp"][0]
    assert message.startswith("Unknown ESP 'pigeon'; choose one of amazon_ses, brevo,")
    assert "credentials" not in errors_of(excinfo)


def test_setting_names_are_lower_cased_and_empty_values_left_out() -> None:
    server = postmark(credentials={" Server_Token ": " pm-token ", "api_url": ""})
    assert server.esp_credentials == {"server_token": "pm-token"}


def test_amazon_ses_params_take_a_json_object() -> None:
    server = create_esp_server(
        name="SES",
        esp="amazon_ses",
        credentials={"client_params": '{"region_name": "eu-west-1"}'},
    )
    assert server.esp_credentials == {"client_params": {"region_name": "eu-west-1"}}

    with pytest.raises(ValidationError) as excinfo:
        create_esp_server(name="SES 2", esp="amazon_ses", credentials={"client_params": "eu"})
    assert errors_of(excinfo)["credentials"][0].startswith("client_params must be a JSON object")


def test_credentials_are_encrypted_at_rest() -> None:
    server = postmark()
    stored = SmtpServer.objects.values_list("esp_credentials_encrypted", flat=True).get()
    assert "pm-secret-token" not in stored
    assert server.esp_credentials == {"server_token": "pm-secret-token"}


def test_the_channel_rules_and_limits_apply_as_for_smtp() -> None:
    with pytest.raises(ValidationError) as excinfo:
        postmark(
            name=" ",
            max_connections=0,
            messages_per_second=0,
            messages_per_hour=500,
            messages_per_day=100,
        )
    errors = errors_of(excinfo)
    assert errors["name"] == ["Give the server a name."]
    assert errors["max_connections"] == ["At least one connection."]
    assert errors["messages_per_second"] == ["Must be greater than zero."]
    assert errors["messages_per_hour"][0].startswith("The hourly limit (500) cannot be more")


def test_a_name_taken_by_an_smtp_server_is_refused() -> None:
    create_smtp_server(name="Main", host="smtp.example.com", port=587)
    with pytest.raises(ValidationError) as excinfo:
        postmark(name="Main")
    assert errors_of(excinfo) == {"name": ["A server named 'Main' already exists."]}


def update(server: SmtpServer, **overrides: Any) -> SmtpServer:
    arguments: dict[str, Any] = {
        "server": server,
        "name": server.name,
        "esp": server.esp,
        "credentials": None,
        "max_connections": server.max_connections,
        "messages_per_second": server.messages_per_second,
        **overrides,
    }
    return update_esp_server(**arguments)


def test_updating_without_credentials_keeps_the_stored_ones() -> None:
    server = postmark(messages_per_day=1000)

    update(server, name="Postmark EU", messages_per_second=5)

    server.refresh_from_db()
    assert (server.name, server.messages_per_second) == ("Postmark EU", 5)
    assert server.esp_credentials == {"server_token": "pm-secret-token"}
    assert server.messages_per_day == 1000, "a limit left out is kept"


def test_new_credentials_replace_the_stored_ones_as_a_whole() -> None:
    server = postmark(credentials={"server_token": "old", "api_url": "https://pm.example/"})
    update(server, credentials={"server_token": "rotated"})
    server.refresh_from_db()
    assert server.esp_credentials == {"server_token": "rotated"}


def test_switching_esp_needs_the_new_esps_credentials() -> None:
    server = postmark()

    with pytest.raises(ValidationError) as excinfo:
        update(server, esp="sendgrid")
    assert errors_of(excinfo) == {
        "credentials": ["Enter the credentials for SendGrid: the stored ones are for Postmark."]
    }

    update(server, esp="sendgrid", credentials={"api_key": "SG.key"})
    server.refresh_from_db()
    assert (server.esp, server.esp_credentials) == ("sendgrid", {"api_key": "SG.key"})


def test_smtp_operations_refuse_an_esp_channel() -> None:
    server = postmark()

    with pytest.raises(WrongServerKind, match="is an ESP channel \\(Postmark\\), not an SMTP"):
        update_smtp_server(
            server=server,
            name="Postmark",
            host="smtp.example.com",
            port=587,
            security="starttls",
            username="",
            password=None,
            max_connections=4,
            messages_per_second=10,
        )
    with pytest.raises(WrongServerKind, match="no host, login or connection to test"):
        check_smtp_server(server)
    server.refresh_from_db()
    assert (server.kind, server.host) == ("esp", "")


def test_esp_updates_refuse_an_smtp_server() -> None:
    smtp = create_smtp_server(name="Relay", host="smtp.example.com", port=587)
    with pytest.raises(WrongServerKind, match="“Relay” is an SMTP server, not an ESP channel"):
        update(smtp, esp="postmark", credentials={"server_token": "t"})
    smtp.refresh_from_db()
    assert (smtp.kind, smtp.esp) == ("smtp", "")


def test_an_esp_channel_reads_as_its_esp_and_name() -> None:
    assert str(postmark(name="Transactional")) == "Postmark (ESP): Transactional"
    smtp = create_smtp_server(name="Relay", host="smtp.example.com", port=25)
    assert str(smtp) == "Relay (smtp.example.com:25)"
