"""A visitor subscribes through a public signup form in headless Chromium: the
spam check runs in the page, the confirmation email arrives at a real SMTP
server, and its link confirms."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pytest_django.live_server_helper import LiveServer

from postino import jobs
from subscribers import confirmation
from subscribers.models import ConsentEvent, MailingList, Subscriber
from subscribers.signup import services
from tests.support.browser import BROWSER_MARKS, SCREENSHOTS, browser, expect  # noqa: F401
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer

pytestmark = [*BROWSER_MARKS, pytest.mark.django_db(transaction=True)]


def test_a_visitor_subscribes_on_the_form_and_confirms_from_the_email(
    page: Any,
    live_server: LiveServer,
    settings: Any,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    queued_jobs: QueuedJobs,
) -> None:
    settings.BASE_URL = live_server.url
    make_smtp_server(smtpd)
    weekly = MailingList.objects.create(name="Weekly", optin="double")
    tips = MailingList.objects.create(name="Tips", optin="double")
    services.create_form(
        services.FormFields(
            name="Footer",
            slug="join-us",
            title="Join our newsletter",
            consent_text="I agree to get the newsletter; I can leave at any time.",
            lists=[weekly, tips],
        )
    )

    page.goto("/s/join/join-us/")
    expect(page.get_by_role("heading", name="Join our newsletter")).to_be_visible()
    page.get_by_label("Email address").fill("Carla@Example.com")
    page.get_by_label("Your name").fill("Carla")
    page.get_by_label("Weekly").check()
    # The spam check solves itself in the page before the form may go.
    expect(page.locator("form[data-postino-signup]")).to_have_attribute("data-pow", "ready")
    page.screenshot(path=str(SCREENSHOTS / "signup-form.png"), full_page=True)
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    carla = Subscriber.objects.get(email="carla@example.com")
    assert list(carla.subscriptions.values_list("mailing_list__name", "status")) == [
        ("Weekly", "unconfirmed")
    ]
    for (batch,) in queued_jobs.of(jobs.SEND_CONFIRMATIONS):  # what the worker runs
        confirmation.send_confirmations(batch)
    [received] = smtpd.handler.messages
    assert received.rcpt_tos == ("carla@example.com",)
    text = received.parsed().get_body(("plain",))
    assert text is not None
    link = re.search(r"http://\S+/confirm/\S+/", str(text.get_content()))
    assert link, "the email carries the confirm link"

    page.goto(link.group(0))
    page.get_by_role("button", name="Yes, subscribe me").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible()
    assert carla.subscriptions.get().status == "confirmed"
    kinds = list(
        ConsentEvent.objects.filter(subscriber=carla)
        .order_by("id")
        .values_list("kind", "via", "consent_text_version")
    )
    assert kinds == [("subscribed", "form", "join-us v1"), ("confirmed", "link", "")]


def test_a_submit_before_the_check_is_done_waits_and_then_goes(
    page: Any, live_server: LiveServer, settings: Any, clean_redis: None, queued_jobs: QueuedJobs
) -> None:
    # A heavier challenge, so the click lands while the page is still working.
    settings.POSTINO = {**settings.POSTINO, "SIGNUP_POW_MAX": 400_000}
    offers = MailingList.objects.create(name="Offers")
    services.create_form(
        services.FormFields(
            name="Offers",
            slug="offers",
            title="Offers",
            consent_text="Yes to offers.",
            lists=[offers],
            ask_name=False,
        )
    )
    page.goto("/s/join/offers/")
    page.get_by_label("Email address").fill("dan@example.com")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="You're subscribed")).to_be_visible(timeout=30_000)
    assert Subscriber.objects.get().subscriptions.get().status == "confirmed"
