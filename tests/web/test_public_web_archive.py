"""The public web archive: opted-in campaigns that started sending, with sample
data only, no tracking, cacheable, 404 for everything else, and its RSS feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList, Subscriber

pytestmark = pytest.mark.django_db

HTML = (
    "<p>Hello {{ subscriber.name }} ({{ subscriber.email }}), news for {{ "
    "subscriber.attributes.city }}.</p><p><a href='https://shop.example.com/sale'>Sale</a></p>"
    "<p><a href='{{ unsubscribe_url }}'>Unsubscribe</a> <a href='{{ preferences_url }}'>"
    "Preferences</a> <a href='{{ webview_url }}'>View online</a></p>"
)


def _sent(
    newsletter: MailingList,
    server: SmtpServer,
    *,
    subject: str = "Spring sale for {{ subscriber.name }}",
    public: bool = True,
    status: str = Campaign.Status.FINISHED,
    days_ago: float = 1,
    name: str = "Internal: spring push",
) -> Campaign:
    campaign = create_campaign(
        name=name,
        subject=subject,
        from_email="News <news@example.com>",
        html=HTML,
        lists=[newsletter],
        smtp_server=server,
    )
    Campaign.objects.filter(pk=campaign.pk).update(
        public_archive=public,
        status=status,
        started_at=timezone.now() - timedelta(days=days_ago)
        if status != Campaign.Status.DRAFT
        else None,
        preheader="Everything half price",
    )
    campaign.refresh_from_db()
    return campaign


def test_the_list_shows_opted_in_sent_campaigns_newest_first_without_internal_names(
    client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    older = _sent(newsletter, smtp_server, subject="Older issue", days_ago=5)
    newer = _sent(newsletter, smtp_server, subject="Newer issue", days_ago=1)
    _sent(newsletter, smtp_server, subject="Not opted in", public=False)
    _sent(newsletter, smtp_server, subject="Still a draft", status=Campaign.Status.DRAFT)
    _sent(newsletter, smtp_server, subject="Withdrawn", status=Campaign.Status.CANCELLED)
    response = client.get(reverse("archive:index"))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("Newer issue") < page.index("Older issue")
    for absent in ("Not opted in", "Still a draft", "Withdrawn", "Internal: spring push"):
        assert absent not in page
    assert reverse("archive:campaign", args=[newer.pk]) in page
    assert reverse("archive:campaign", args=[older.pk]) in page
    assert response["Cache-Control"] in {"public, max-age=300", "max-age=300, public"}
    assert "script-src" not in response["Content-Security-Policy"]
    assert "default-src 'none'" in response["Content-Security-Policy"]


def test_the_list_pages_by_keyset_and_follows_ties_on_the_start_time(
    client: Client, newsletter: MailingList, smtp_server: SmtpServer, settings: Any
) -> None:
    campaigns = [_sent(newsletter, smtp_server, subject=f"Issue {i}") for i in range(25)]
    same = timezone.now() - timedelta(days=1)
    Campaign.objects.filter(pk__in=[c.pk for c in campaigns]).update(started_at=same)
    first = client.get(reverse("archive:index"))
    cursor = first.context["next_cursor"]
    assert cursor and len(first.context["entries"]) == 20
    second = client.get(reverse("archive:index"), {"after": cursor})
    assert second.context["next_cursor"] is None
    seen = [e.campaign.pk for e in first.context["entries"] + second.context["entries"]]
    assert seen == sorted((c.pk for c in campaigns), reverse=True)


def test_a_campaign_page_frames_the_web_version_in_a_sandbox(
    client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    campaign = _sent(newsletter, smtp_server)
    response = client.get(reverse("archive:campaign", args=[campaign.pk]))
    page = response.content.decode()
    assert "Spring sale for Sample Subscriber" in page
    assert 'sandbox="allow-popups' in page and "allow-scripts" not in page
    assert reverse("archive:message", args=[campaign.pk]) in page
    assert "frame-src 'self'" in response["Content-Security-Policy"]


def test_the_web_version_has_sample_data_and_no_one_s_links_or_tracking(
    client: Client,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    alice: Subscriber,
    settings: Any,
) -> None:
    campaign = _sent(newsletter, smtp_server)
    Campaign.objects.filter(pk=campaign.pk).update(track_opens=True, track_clicks=True)
    response = client.get(reverse("archive:message", args=[campaign.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hello Sample Subscriber (subscriber@example.com)" in html
    for real in ("Alice", "alice@example.com", "Lisbon"):
        assert real not in html
    assert "<a href='#'>Unsubscribe</a>" in html and "<a href='#'>Preferences</a>" in html
    assert f"{settings.BASE_URL}/archive/{campaign.pk}/" in html  # "view online" is this page
    assert "https://shop.example.com/sale" in html  # as written, not through a redirect
    for tracking in ("/t/", "/s/", "pixel", "token"):
        assert tracking not in html
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp and "sandbox" in csp
    assert "frame-ancestors 'self'" in csp
    assert response["X-Frame-Options"] == "SAMEORIGIN"


@pytest.mark.parametrize(
    ("public", "status"),
    [
        (False, Campaign.Status.FINISHED),
        (True, Campaign.Status.DRAFT),
        (True, Campaign.Status.SCHEDULED),
        (True, Campaign.Status.CANCELLED),
    ],
)
def test_a_campaign_not_opted_in_or_not_sent_is_404_everywhere(
    client: Client,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    public: bool,
    status: str,
) -> None:
    campaign = _sent(newsletter, smtp_server, public=public, status=status)
    for name in ("archive:campaign", "archive:message"):
        assert client.get(reverse(name, args=[campaign.pk])).status_code == 404
    assert client.get(reverse("archive:campaign", args=[999999])).status_code == 404


def test_the_setting_turns_the_whole_archive_off(
    client: Client, newsletter: MailingList, smtp_server: SmtpServer, settings: Any
) -> None:
    campaign = _sent(newsletter, smtp_server)
    settings.POSTINO = {**settings.POSTINO, "PUBLIC_ARCHIVE": False}
    for url in (
        reverse("archive:index"),
        reverse("archive:feed"),
        reverse("archive:campaign", args=[campaign.pk]),
        reverse("archive:message", args=[campaign.pk]),
    ):
        assert client.get(url).status_code == 404, url


def test_the_feed_lists_subject_link_date_and_preheader(
    client: Client, newsletter: MailingList, smtp_server: SmtpServer, settings: Any
) -> None:
    campaign = _sent(newsletter, smtp_server)
    _sent(newsletter, smtp_server, subject="Not opted in", public=False)
    response = client.get(reverse("archive:feed"))
    xml = response.content.decode()
    assert response["Content-Type"].startswith("application/rss+xml")
    assert "<title>Spring sale for Sample Subscriber</title>" in xml
    assert f"<link>{settings.BASE_URL}/archive/{campaign.pk}/</link>" in xml
    assert "<description>Everything half price</description>" in xml
    assert campaign.started_at is not None
    assert f"<pubDate>{campaign.started_at:%a, %d %b %Y}" in xml
    assert "Not opted in" not in xml and "Internal: spring push" not in xml
    assert "max-age=300" in response["Cache-Control"]


def test_the_campaign_page_links_to_its_archive_page_once_public(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    campaign = _sent(newsletter, smtp_server)
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert f'href="/archive/{campaign.pk}/" data-role="web-archive-link"' in page
    Campaign.objects.filter(pk=campaign.pk).update(status="draft", started_at=None)
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "web-archive-link" not in page
    assert "In the public web archive once it starts sending" in page
