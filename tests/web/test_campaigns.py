from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, Template
from campaigns.services import create_campaign
from delivery.models import Delivery, SmtpServer
from subscribers.models import MailingList, Subscriber
from subscribers.segments.services import create_segment
from subscribers.services import create_subscriber

BAD_HTML = "<p>Hello</p>\n<p>\n{% if subscriber.name %}unclosed\n"


def _form_data(newsletter: MailingList, smtp_server: SmtpServer, **overrides: Any) -> dict:
    data = {
        "name": "Autumn news",
        "subject": "News for {{ subscriber.name }}",
        "from_email": "News <news@example.com>",
        "reply_to": "",
        "lists": [newsletter.pk],
        "smtp_server": smtp_server.pk,
        "template": "",
        "html": "<p>Hello {{ subscriber.name }}</p>",
        "text": "",
        "smtp_weight": "1",
        "max_error_rate": "",
        "max_errors": "",
        # The (empty) formset of extra SMTP servers.
        "servers-TOTAL_FORMS": "0",
        "servers-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def _field_html(page: str, name: str) -> str:
    start = page.index(f'id="field-{name}"')
    end = page.find('<div class="field', start + 1)
    return page[start : end if end != -1 else len(page)]


def test_the_campaigns_page_invites_you_to_write_the_first(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.get(reverse("campaigns:index"))
    assert b"No campaigns yet" in response.content


def test_creating_a_campaign_saves_a_draft(
    teammate_client: Client, teammate: Any, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server), follow=True
    )
    campaign = Campaign.objects.get()
    assert campaign.status == Campaign.Status.DRAFT
    assert list(campaign.lists.all()) == [newsletter]
    assert campaign.smtp_server == smtp_server
    assert campaign.created_by == teammate
    assert response.redirect_chain[-1][0] == reverse("campaigns:detail", args=[campaign.pk])
    assert "saved as a draft" in response.content.decode()


def test_a_bad_template_is_reported_beside_the_html_field_with_its_line(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server, html=BAD_HTML)
    )
    assert response.status_code == 200
    [error] = response.context["form"].errors["html"]
    assert error.startswith("Line 3: ")
    assert html.escape(error) in _field_html(response.content.decode(), "html")
    assert not Campaign.objects.exists()


def test_a_bad_subject_is_reported_beside_the_subject(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(newsletter, smtp_server, subject="Hi {{ subscriber.name "),
    )
    [error] = response.context["form"].errors["subject"]
    assert error.startswith("Line 1: ")


def test_a_layout_problem_is_reported_beside_the_layout_choice(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    layout = Template.objects.create(name="No block", html="<html><body></body></html>")
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server, template=layout.pk)
    )
    assert "block content" in " ".join(response.context["form"].errors["template"])


def test_a_bad_from_address_is_reported_beside_from(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"), _form_data(newsletter, smtp_server, from_email="nobody")
    )
    assert response.context["form"].errors["from_email"]


def test_editing_a_draft(
    teammate_client: Client, campaign: Campaign, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    url = reverse("campaigns:edit", args=[campaign.pk])
    form = teammate_client.get(url).context["form"]
    assert form.initial["name"] == "Spring news"
    assert form.initial["lists"] == [newsletter]
    teammate_client.post(url, _form_data(newsletter, smtp_server, name="Spring news (v2)"))
    campaign.refresh_from_db()
    assert campaign.name == "Spring news (v2)"


def test_editing_reports_template_errors_beside_the_field(
    teammate_client: Client, campaign: Campaign, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:edit", args=[campaign.pk]),
        _form_data(newsletter, smtp_server, text="ok\n{{ broken(\n"),
    )
    assert response.context["form"].errors["text"][0].startswith("Line 2: ")
    campaign.refresh_from_db()
    assert campaign.text == ""


def test_a_running_campaign_cannot_be_edited(teammate_client: Client, campaign: Campaign) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.RUNNING)
    response = teammate_client.get(reverse("campaigns:edit", args=[campaign.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("campaigns:detail", args=[campaign.pk])
    assert "A running campaign cannot be edited." in response.content.decode()


def _visible_controls(page: str) -> set[str]:
    shown = set()
    for action in ("start", "pause", "resume", "cancel"):
        marker = 'action="/campaigns/'
        for chunk in page.split("<form")[1:]:
            head = chunk.split(">", 1)[0]
            if marker in head and f"/{action}/" in head and " hidden" not in head:
                shown.add(action)
    return shown


@pytest.mark.parametrize(
    ("status", "controls"),
    [
        ("draft", {"start"}),
        ("scheduled", {"start", "cancel"}),
        ("running", {"pause", "cancel"}),
        ("paused", {"resume", "cancel"}),
        ("finished", set()),
        ("cancelled", set()),
    ],
)
def test_the_campaign_page_offers_the_controls_its_status_allows(
    teammate_client: Client, campaign: Campaign, status: str, controls: set[str]
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=status)
    response = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert _visible_controls(response.content.decode()) == controls


def test_starting_a_campaign_snapshots_the_audience_and_runs(
    teammate_client: Client,
    campaign: Campaign,
    alice: Subscriber,
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = teammate_client.post(
            reverse("campaigns:start", args=[campaign.pk]), {"confirmed": "on"}, follow=True
        )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING
    assert Delivery.objects.filter(campaign=campaign).count() == 1
    assert len(callbacks) == 1  # the dispatch task, enqueued after commit
    assert "Campaign started." in response.content.decode()


def test_scheduling_a_campaign(teammate_client: Client, campaign: Campaign) -> None:
    when = timezone.localtime() + timedelta(days=2)
    response = teammate_client.post(
        reverse("campaigns:start", args=[campaign.pk]),
        {"scheduled_at": when.strftime("%Y-%m-%dT%H:%M"), "confirmed": "on"},
        follow=True,
    )
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.SCHEDULED
    assert campaign.scheduled_at == when.replace(second=0, microsecond=0)
    assert f"Campaign scheduled for {when:%Y-%m-%d %H:%M} UTC." in response.content.decode()


def test_starting_without_a_server_explains_why(
    teammate_client: Client, newsletter: MailingList, campaign: Campaign
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(smtp_server=None)
    response = teammate_client.post(reverse("campaigns:start", args=[campaign.pk]), follow=True)
    assert "Cannot start: Choose the SMTP server to send through." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


@pytest.mark.parametrize(
    ("before", "action", "after"),
    [
        ("running", "pause", "paused"),
        ("paused", "resume", "running"),
        ("running", "cancel", "cancelled"),
        ("scheduled", "cancel", "cancelled"),
    ],
)
def test_pause_resume_and_cancel(
    teammate_client: Client, campaign: Campaign, before: str, action: str, after: str
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(status=before)
    teammate_client.post(reverse(f"campaigns:{action}", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == after


def test_an_impossible_transition_is_explained(teammate_client: Client, campaign: Campaign) -> None:
    response = teammate_client.post(reverse("campaigns:pause", args=[campaign.pk]), follow=True)
    assert "Cannot pause: A draft campaign cannot be paused." in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.DRAFT


def test_stats_json_reports_counts_status_and_progress(
    teammate_client: Client, campaign: Campaign, newsletter: MailingList
) -> None:
    subscribers = [
        create_subscriber(email=f"r{i}@example.com", lists=[newsletter]) for i in range(4)
    ]
    statuses = ["sent", "sent", "failed", "pending"]
    for subscriber, status in zip(subscribers, statuses, strict=True):
        Delivery.objects.create(campaign=campaign, subscriber=subscriber, status=status)
    Campaign.objects.filter(pk=campaign.pk).update(
        status=Campaign.Status.PAUSED, status_reason="Too many failures"
    )
    response = teammate_client.get(reverse("campaigns:stats", args=[campaign.pk]))
    assert response["Cache-Control"] == "no-store"
    payload = response.json()
    assert "Recent failures" in payload.pop("activity_html")
    assert payload == {
        "total": 4,
        "sent": 2,
        "failed": 1,
        "pending": 1,
        "percent": 75,
        "status": "paused",
        "status_label": "Paused",
        "status_reason": "Too many failures",
        "live": True,
        "started_at": "",
        "finished_at": "",
    }


def test_the_campaign_page_shows_status_reason_and_counts(
    teammate_client: Client, campaign: Campaign, alice: Subscriber
) -> None:
    Delivery.objects.create(campaign=campaign, subscriber=alice, status="sent")
    Campaign.objects.filter(pk=campaign.pk).update(status="paused", status_reason="Paused by Ana")
    page = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert "Paused by Ana" in page
    assert 'data-stat="sent">1<' in page
    assert 'style="width: 100%"' in page
    assert f'data-stats-url="{reverse("campaigns:stats", args=[campaign.pk])}"' in page


def test_send_test_flashes_the_recipients(
    teammate_client: Client, campaign: Campaign, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = teammate_client.post(
            reverse("campaigns:send_test", args=[campaign.pk]),
            {"emails": "me@example.com, Boss@Example.com"},
            follow=True,
        )
    assert "Test sent to me@example.com, boss@example.com." in response.content.decode()
    assert len(callbacks) == 1


def test_send_test_reports_a_bad_address_beside_the_field(
    teammate_client: Client, campaign: Campaign
) -> None:
    response = teammate_client.post(
        reverse("campaigns:send_test", args=[campaign.pk]), {"emails": "me@example.com, nope"}
    )
    assert response.status_code == 400
    assert response.context["test_form"].errors["emails"] == [
        "'nope' is not a valid email address."
    ]
    assert "&#x27;nope&#x27; is not a valid email address." in response.content.decode()


def test_preview_uses_a_sample_subscriber_by_default(
    teammate_client: Client, campaign: Campaign
) -> None:
    response = teammate_client.get(reverse("campaigns:preview", args=[campaign.pk]))
    rendered = response.context["rendered"]
    assert rendered.subject == "Hello Sample Subscriber"
    assert "Hi Sample Subscriber" in rendered.html
    assert b"sample subscriber" in response.content


def test_preview_renders_for_a_chosen_subscriber_in_a_sandboxed_iframe(
    teammate_client: Client, campaign: Campaign, alice: Subscriber
) -> None:
    Campaign.objects.filter(pk=campaign.pk).update(
        html="<p>Hi {{ subscriber.name }} from {{ subscriber.attributes.city }}</p>"
        '<script>parent.document.title = "pwned"</script>'
    )
    response = teammate_client.get(
        reverse("campaigns:preview", args=[campaign.pk]), {"email": "Alice@example.com"}
    )
    assert response.context["subscriber"] == alice
    page = response.content.decode()
    assert "Hello Alice" in page
    # The email's HTML only ever appears escaped inside srcdoc of a sandboxed frame.
    assert '<iframe class="preview-frame" title="HTML part" sandbox srcdoc="' in page
    assert "&lt;p&gt;Hi Alice from Lisbon&lt;/p&gt;" in page
    assert "<script>parent" not in page
    assert "Hi Alice from Lisbon" in response.context["rendered"].text


def test_preview_can_pick_a_list_member(
    teammate_client: Client, campaign: Campaign, alice: Subscriber
) -> None:
    response = teammate_client.get(reverse("campaigns:preview", args=[campaign.pk]))
    assert (alice.pk, alice.email) in response.context["form"].fields["subscriber"].choices
    response = teammate_client.get(
        reverse("campaigns:preview", args=[campaign.pk]), {"subscriber": alice.pk}
    )
    assert response.context["rendered"].subject == "Hello Alice"


def test_preview_reports_an_unknown_email(teammate_client: Client, campaign: Campaign) -> None:
    response = teammate_client.get(
        reverse("campaigns:preview", args=[campaign.pk]), {"email": "ghost@example.com"}
    )
    assert response.context["form"].errors["email"] == [
        "No subscriber with the address ghost@example.com."
    ]
    assert response.context["rendered"].subject == "Hello Sample Subscriber"


def test_preview_of_a_segment_only_campaign_offers_the_segments_members(
    teammate_client: Client, smtp_server: SmtpServer, alice: Subscriber, newsletter: MailingList
) -> None:
    create_subscriber(email="bob@example.com", name="Bob", lists=[newsletter])
    lisbon = create_segment(
        name="Lisbon",
        definition={
            "match": "all",
            "conditions": [{"field": "attributes.city", "op": "eq", "value": "Lisbon"}],
        },
    )
    campaign = create_campaign(
        name="Lisbon only",
        subject="Hello {{ subscriber.name }}",
        from_email="News <news@example.com>",
        html="<p>Hi {{ subscriber.attributes.city }}</p>",
        lists=[],
        segments=[lisbon],
        smtp_server=smtp_server,
    )
    response = teammate_client.get(reverse("campaigns:preview", args=[campaign.pk]))
    assert response.context["form"].fields["subscriber"].choices[1:] == [(alice.pk, alice.email)]
    response = teammate_client.get(
        reverse("campaigns:preview", args=[campaign.pk]), {"subscriber": alice.pk}
    )
    assert response.context["rendered"].subject == "Hello Alice"
