"""A test send to an address that is no subscriber shows the preview's sample subscriber."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from delivery.pipeline.direct import send_tests
from subscribers.services import create_subscriber
from tests.support.factories import make_campaign, make_list, make_smtp_server
from tests.support.smtpd import RunningSmtpServer

pytestmark = pytest.mark.django_db


def test_preview_and_test_send_use_the_same_sample_subscriber(
    smtpd: RunningSmtpServer, clean_redis: None, teammate_client: Client
) -> None:
    news = make_list()
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    preview = teammate_client.get(reverse("campaigns:preview", args=[campaign.pk]))
    previewed_subject = preview.context["rendered"].subject
    assert previewed_subject == "News for Sample Subscriber"

    assert send_tests(campaign.pk, ["boss@example.com"]) == ["boss@example.com"]
    [message] = smtpd.handler.messages
    assert message.parsed()["Subject"] == f"[Test] {previewed_subject}"
    assert message.parsed()["To"] == "boss@example.com"


def test_a_test_send_to_a_subscriber_is_personalised_for_them(
    smtpd: RunningSmtpServer, clean_redis: None
) -> None:
    news = make_list()
    create_subscriber(email="boss@example.com", name="Bea Boss", lists=[news])
    campaign = make_campaign(lists=[news], server=make_smtp_server(smtpd))
    assert send_tests(campaign.pk, ["boss@example.com"]) == ["boss@example.com"]
    [message] = smtpd.handler.messages
    assert message.parsed()["Subject"] == "[Test] News for Bea Boss"
