"""Every marketer page: anonymous → login, outsider → 403, teammate → 200."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import CaughtMessage, DomainLimit, SmtpServer
from subscribers.imports.services import store_upload
from subscribers.models import (
    BlocklistEntry,
    BulkAction,
    Import,
    MailingList,
    Segment,
    SignupForm,
    Subscriber,
)
from subscribers.segments.services import create_segment
from subscribers.signup.services import FormFields, create_form

pytestmark = pytest.mark.usefixtures("mailcatcher_on")


def _gmail_limit_id() -> int:
    # One of the defaults the data migration adds.
    return DomainLimit.objects.get(domain="gmail.com").pk


@pytest.fixture
def draft_import(settings: Any, tmp_path: Path) -> Import:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path / "imports"}
    return store_upload(source=io.BytesIO(b"email\na@example.com\n"), name="people.csv")


@pytest.fixture
def segment(db: None) -> Segment:
    return create_segment(
        name="Gmail",
        definition={"conditions": [{"field": "domain", "op": "eq", "value": "gmail.com"}]},
    )


@pytest.fixture
def blocked(db: None) -> BlocklistEntry:
    return BlocklistEntry.objects.create(kind="domain", value="spam.test")


@pytest.fixture
def bulk_action(db: None) -> BulkAction:
    return BulkAction.objects.create(kind="blocklist", status="finished")


@pytest.fixture
def signup(newsletter: MailingList) -> SignupForm:
    return create_form(
        FormFields(
            name="Footer", slug="footer", title="Join", consent_text="Yes.", lists=[newsletter]
        )
    )


@pytest.fixture
def page_urls(
    bulk_action: BulkAction,
    signup: SignupForm,
    segment: Segment,
    newsletter: MailingList,
    alice: Subscriber,
    smtp_server: SmtpServer,
    campaign: Campaign,
    draft_import: Import,
) -> list[str]:
    caught = CaughtMessage.objects.create(
        mail_from="a@example.com",
        rcpt_to=["b@example.com"],
        subject="Hi",
        raw=b"Subject: Hi\r\n\r\nHello",
    )
    return [
        reverse("dashboard"),
        reverse("subscribers:list_index"),
        reverse("subscribers:list_create"),
        reverse("subscribers:list_detail", args=[newsletter.pk]),
        reverse("subscribers:list_export", args=[newsletter.pk]),
        reverse("subscribers:index"),
        reverse("subscribers:create"),
        reverse("subscribers:detail", args=[alice.pk]),
        reverse("subscribers:import_index"),
        reverse("subscribers:import_create"),
        reverse("subscribers:import_detail", args=[draft_import.pk]),
        reverse("subscribers:import_progress", args=[draft_import.pk]),
        reverse("subscribers:import_report", args=[draft_import.pk]),
        reverse("subscribers:blocklist"),
        reverse("subscribers:bulk_detail", args=[bulk_action.pk]),
        reverse("subscribers:bulk_progress", args=[bulk_action.pk]),
        reverse("signup_forms:index"),
        reverse("signup_forms:create"),
        reverse("signup_forms:edit", args=[signup.pk]),
        reverse("signup_forms:delete", args=[signup.pk]),
        reverse("delivery:system_mail"),
        reverse("segments:index"),
        reverse("segments:create"),
        reverse("segments:detail", args=[segment.pk]),
        reverse("segments:edit", args=[segment.pk]),
        reverse("segments:delete", args=[segment.pk]),
        reverse("segments:export", args=[segment.pk]),
        reverse("campaigns:index"),
        reverse("campaigns:create"),
        reverse("campaigns:detail", args=[campaign.pk]),
        reverse("campaigns:edit", args=[campaign.pk]),
        reverse("campaigns:preview", args=[campaign.pk]),
        reverse("campaigns:stats", args=[campaign.pk]),
        reverse("delivery:smtp_index"),
        reverse("delivery:smtp_create"),
        reverse("delivery:smtp_edit", args=[smtp_server.pk]),
        reverse("delivery:domain_limit_index"),
        reverse("delivery:domain_limit_create"),
        reverse("delivery:domain_limit_edit", args=[_gmail_limit_id()]),
        reverse("delivery:outbox"),
        reverse("delivery:outbox_detail", args=[caught.pk]),
        reverse("delivery:outbox_raw", args=[caught.pk]),
    ]


@pytest.fixture
def action_urls(
    campaign: Campaign,
    smtp_server: SmtpServer,
    draft_import: Import,
    segment: Segment,
    blocked: BlocklistEntry,
    bulk_action: BulkAction,
) -> list[str]:
    bulk = bulk_action
    return [
        reverse("segments:create"),
        reverse("segments:count"),
        reverse("signup_forms:create"),
        reverse("subscribers:bulk_start"),
        reverse("subscribers:bulk_cancel", args=[bulk.pk]),
        reverse("subscribers:blocklist_remove", args=[blocked.pk]),
        reverse("subscribers:list_create"),
        reverse("subscribers:import_create"),
        reverse("subscribers:import_cancel", args=[draft_import.pk]),
        reverse("subscribers:create"),
        reverse("campaigns:create"),
        reverse("campaigns:start", args=[campaign.pk]),
        reverse("campaigns:pause", args=[campaign.pk]),
        reverse("campaigns:resume", args=[campaign.pk]),
        reverse("campaigns:cancel", args=[campaign.pk]),
        reverse("campaigns:send_test", args=[campaign.pk]),
        reverse("delivery:smtp_create"),
        reverse("delivery:smtp_test", args=[smtp_server.pk]),
        reverse("delivery:domain_limit_create"),
        reverse("delivery:domain_limit_delete", args=[_gmail_limit_id()]),
        reverse("delivery:outbox_clear"),
    ]


def test_anonymous_visitors_are_sent_to_login(client: Client, page_urls: list[str]) -> None:
    for url in page_urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == f"{reverse('login')}?next={url}", url


def test_outsiders_are_refused_every_page(outsider_client: Client, page_urls: list[str]) -> None:
    for url in page_urls:
        response = outsider_client.get(url)
        assert response.status_code == 403, url
        assert b"not a member of the team" in response.content


def test_teammates_see_every_page(teammate_client: Client, page_urls: list[str]) -> None:
    for url in page_urls:
        assert teammate_client.get(url).status_code == 200, url


def test_inactive_staff_cannot_get_in(
    teammate_client: Client, teammate: User, page_urls: list[str]
) -> None:
    teammate.is_active = False
    teammate.save()
    # Django logs out inactive users: the session no longer authenticates.
    assert teammate_client.get(page_urls[0]).status_code == 302


def test_actions_refuse_anonymous_and_outsiders(
    client: Client, outsider_client: Client, action_urls: list[str]
) -> None:
    CaughtMessage.objects.create(raw=b"Subject: kept\r\n\r\nbody")
    campaign_status = Campaign.objects.values_list("status", flat=True).get()
    for url in action_urls:
        assert client.post(url).status_code == 302, url
        assert outsider_client.post(url).status_code == 403, url
    assert Campaign.objects.values_list("status", flat=True).get() == campaign_status
    assert CaughtMessage.objects.exists()
    assert DomainLimit.objects.filter(domain="gmail.com").exists()


def test_actions_need_a_csrf_token(teammate: User, campaign: Campaign) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)
    response = client.post(reverse("campaigns:start", args=[campaign.pk]))
    assert response.status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_state_changing_urls_refuse_get(teammate_client: Client, action_urls: list[str]) -> None:
    post_only = [u for u in action_urls if "/new/" not in u]
    for url in post_only:
        assert teammate_client.get(url).status_code == 405, url


def test_the_nav_shows_outbox_only_with_the_mailcatcher(
    teammate_client: Client, settings: Any
) -> None:
    assert b'href="/outbox/"' in teammate_client.get("/").content
    settings.POSTINO = {**settings.POSTINO, "MAILCATCHER_ENABLED": False}
    assert b'href="/outbox/"' not in teammate_client.get("/").content
