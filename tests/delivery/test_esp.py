"""Sending through ESP APIs with django-anymail. Only the ESPs' HTTP APIs are
faked (they are outside our machine); everything else is real."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from delivery.esp_catalog import EspConfigurationError, validate_credentials
from delivery.models import Delivery, SmtpServer
from delivery.pipeline import breaker
from delivery.pipeline.chunk import run_chunk
from delivery.pipeline.esp import EspTransport
from tests.support.esp import FakeApi, Responder, install_fake_api, postmark_ok
from tests.support.factories import esp_campaign

pytestmark = pytest.mark.django_db


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeApi]]:
    def install(respond: Responder) -> FakeApi:
        return install_fake_api(monkeypatch, respond)

    yield install


def test_a_campaign_goes_out_through_the_esp_api_one_session_per_lane(
    fake_api: Callable[..., FakeApi], clean_redis: None
) -> None:
    api = fake_api(postmark_ok)
    campaign = esp_campaign("postmark", {"server_token": "pm-token"}, 5)

    assert run_chunk(campaign.pk) == 5

    assert len(api.calls) == 5
    # Two calls in flight at most (max_connections), each lane keeping its
    # HTTP session (keep-alive) for all its calls.
    assert 1 <= len(api.sessions) <= 2, "each lane reuses its HTTP session"
    first = api.calls[0]
    assert first["url"] == "https://api.postmarkapp.com/email"
    assert first["headers"]["X-Postmark-Server-Token"] == "pm-token"
    payload = first["payload"]
    assert payload["Subject"] == "News for Reader reader 0"
    assert "Hello Reader reader 0" in payload["HtmlBody"]
    assert "Your city: City-0." in payload["TextBody"]
    headers = {h["Name"]: h["Value"] for h in payload["Headers"]}
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Unsubscribe"].startswith("<https://postino.example.com/s/one-click/")
    rows = Delivery.objects.filter(campaign=campaign).order_by("id")
    assert [row.status for row in rows] == ["sent"] * 5
    assert rows[0].provider_message_id == "pm-reader0@example.org"
    assert payload["Metadata"]["postino_ref"]


def test_refused_messages_fail_alone_and_nothing_is_sent_twice(
    fake_api: Callable[..., FakeApi], clean_redis: None
) -> None:
    def respond(payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "reader2@" in payload["To"]:
            message = "Invalid 'To' address: 'reader2@example.org'."
            return 422, {"ErrorCode": 300, "Message": message}
        if "reader3@" in payload["To"]:
            return 400, {"ErrorCode": 1234, "Message": "Something about this message"}
        return postmark_ok(payload)

    api = fake_api(respond)
    campaign = esp_campaign("postmark", {"server_token": "pm-token"}, 5)

    assert run_chunk(campaign.pk) == 3

    assert len(api.calls) == 5
    refused = Delivery.objects.get(campaign=campaign, subscriber__email="reader2@example.org")
    assert refused.status == "failed"
    assert "refused the recipient" in refused.smtp_reply
    bad_request = Delivery.objects.get(campaign=campaign, subscriber__email="reader3@example.org")
    assert (bad_request.status, bad_request.smtp_code) == ("failed", 400)
    assert Delivery.objects.filter(campaign=campaign, status="sent").count() == 3


def test_an_esp_server_error_is_retried_later(
    fake_api: Callable[..., FakeApi], clean_redis: None
) -> None:
    fake_api(lambda payload: (503, "Service Unavailable"))
    campaign = esp_campaign("brevo", {"api_key": "xkeysib-key"}, 2)

    assert run_chunk(campaign.pk) == 0

    rows = Delivery.objects.filter(campaign=campaign)
    assert all(r.status == "pending" and r.attempts == 1 and r.next_attempt_at for r in rows)
    assert {r.smtp_code for r in rows} == {503}


def test_rejected_credentials_take_the_channel_out_of_rotation(
    fake_api: Callable[..., FakeApi], clean_redis: None
) -> None:
    api = fake_api(lambda payload: (401, {"code": "unauthorized", "message": "Key not found"}))
    campaign = esp_campaign("brevo", {"api_key": "xkeysib-wrong"}, 3)

    assert run_chunk(campaign.pk) == 0

    # The calls already in flight (max_connections, 2) are the only ones made.
    assert len(api.calls) <= 2, "a refusal of the credentials stops the channel"
    rows = Delivery.objects.filter(campaign=campaign)
    assert all(r.status == "pending" and r.attempts == 0 for r in rows)
    assert campaign.smtp_server is not None
    assert breaker.server_unavailable_for(campaign.smtp_server.pk) > 0


def test_esp_credentials_are_encrypted_at_rest() -> None:
    server = SmtpServer(name="SG", kind="esp", esp="sendgrid", messages_per_second=10)
    server.esp_credentials = {"api_key": "SG.very-secret"}
    server.save()
    stored = SmtpServer.objects.values_list("esp_credentials_encrypted", flat=True).get()
    assert "very-secret" not in stored
    assert SmtpServer.objects.get().esp_credentials == {"api_key": "SG.very-secret"}


@pytest.mark.parametrize(
    ("esp", "credentials", "message"),
    [
        ("nosuchesp", {}, "Unknown ESP"),
        ("mailjet", {"api_key": "k"}, "Mailjet needs secret_key."),
        ("sendgrid", {"api_key": "k", "colour": "blue"}, "SendGrid does not take colour"),
    ],
)
def test_esp_settings_are_validated(esp: str, credentials: dict[str, str], message: str) -> None:
    with pytest.raises(EspConfigurationError, match=message):
        validate_credentials(esp, credentials)


def test_an_esp_session_keeps_the_proxy_environment_it_was_opened_with(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The environment is read once per session (requests would re-read it on
    every call), and what it says still applies."""
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    transport = EspTransport("postmark", {"server_token": "token"})
    session = transport.backend.session
    assert session.trust_env is False
    assert session.proxies["https"] == "http://proxy.internal:3128"
    assert session.verify == "/etc/ssl/certs/ca-certificates.crt"
    transport.close()

    monkeypatch.setenv("NO_PROXY", "api.postmarkapp.com")
    transport = EspTransport("postmark", {"server_token": "token"})
    assert "https" not in transport.backend.session.proxies
    transport.close()
