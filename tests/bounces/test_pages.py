"""The marketer pages for bounces, suppressions and the policy."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bounces.models import BounceEvent, BouncePolicy, Mailbox, Suppression
from bounces.services import suppress, suppressed_emails
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber

Kind = BounceEvent.Kind

PAGES: list[tuple[str, list[int]]] = [
    ("bounces:index", []),
    ("bounces:policy", []),
    ("bounces:suppressions", []),
]


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    # The suite's BASE_URL is https; the test client speaks plain HTTP.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def campaign(db: None) -> Campaign:
    return Campaign.objects.create(
        name="Spring news", subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )


@pytest.fixture
def ann(db: None) -> Subscriber:
    return Subscriber.objects.create(email="ann@example.com")


def report(
    kind: str = Kind.HARD,
    email: str = "ann@example.com",
    *,
    campaign: Campaign | None = None,
    subscriber: Subscriber | None = None,
    diagnostic: str = "550 5.1.1 user unknown",
    raw: str = "",
) -> BounceEvent:
    return BounceEvent.objects.create(
        kind=kind,
        source=BounceEvent.Source.INBOUND,
        email=email,
        status="5.1.1" if kind == Kind.HARD else "",
        diagnostic=diagnostic,
        campaign=campaign,
        subscriber=subscriber,
        raw=raw,
    )


# --- who may see what -----------------------------------------------------------


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_anonymous_visitors_are_sent_to_log_in(
    client: Client, db: None, name: str, args: list[int]
) -> None:
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_outsiders_get_403(outsider_client: Client, name: str, args: list[int]) -> None:
    assert outsider_client.get(reverse(name, args=args)).status_code == 403


def test_outsiders_cannot_see_a_report_lift_or_add(outsider_client: Client) -> None:
    event = report()
    suppression = suppress(email="ann@example.com", reason="hard_bounce", bounce=event)

    assert outsider_client.get(reverse("bounces:detail", args=[event.pk])).status_code == 403
    lift = reverse("bounces:suppression_lift", args=[suppression.pk])
    assert outsider_client.post(lift).status_code == 403
    add = reverse("bounces:suppression_add")
    assert outsider_client.post(add, {"email": "x@example.com"}).status_code == 403
    policy = reverse("bounces:policy")
    assert outsider_client.post(policy, {"hard_action": "log"}).status_code == 403
    assert suppressed_emails(["ann@example.com"]) and Suppression.objects.count() == 1


def test_state_changes_need_a_csrf_token(teammate: User) -> None:
    suppression = suppress(email="ann@example.com", reason="manual")
    client = Client(enforce_csrf_checks=True)
    client.force_login(teammate)

    response = client.post(reverse("bounces:suppression_lift", args=[suppression.pk]))

    assert response.status_code == 403
    assert suppressed_emails(["ann@example.com"])


def test_lifting_is_a_post(teammate_client: Client) -> None:
    suppression = suppress(email="ann@example.com", reason="manual")
    lift = reverse("bounces:suppression_lift", args=[suppression.pk])
    assert teammate_client.get(lift).status_code == 405


def test_the_sidebar_links_to_the_bounce_log(teammate_client: Client) -> None:
    page = teammate_client.get(reverse("bounces:index")).content.decode()
    assert f'href="{reverse("bounces:index")}" aria-current="page">Bounces</a>' in page


# --- the bounce log ---------------------------------------------------------------


def test_the_log_shows_each_report_with_its_links(
    teammate_client: Client, campaign: Campaign, ann: Subscriber
) -> None:
    event = report(campaign=campaign, subscriber=ann, diagnostic="550 5.1.1 " + "x" * 300)

    response = teammate_client.get(reverse("bounces:index"))

    page = response.content.decode()
    assert response.status_code == 200
    assert reverse("bounces:detail", args=[event.pk]) in page
    assert reverse("subscribers:detail", args=[ann.pk]) in page
    assert reverse("campaigns:detail", args=[campaign.pk]) in page
    assert 'data-kind="hard"' in page and "5.1.1" in page
    assert "x" * 300 not in page and "x" * 100 in page  # truncated; full on the detail page


def test_the_log_filters_by_kind_source_and_email(teammate_client: Client, db: None) -> None:
    hard = report(Kind.HARD, "ann@example.com")
    soft = report(Kind.SOFT, "bob@example.com")
    hook = report(Kind.COMPLAINT, "cy@example.com")
    BounceEvent.objects.filter(pk=hook.pk).update(source=BounceEvent.Source.WEBHOOK)

    def shown(**params: str) -> list[BounceEvent]:
        response = teammate_client.get(reverse("bounces:index"), params)
        return list(response.context["page"].items)

    assert shown(kind="soft") == [soft]
    assert shown(source="webhook") == [hook]
    assert shown(q="ANN") == [hard]
    assert shown(kind="nonsense") == [hook, soft, hard]  # junk filters are ignored


def test_the_log_pages_by_key_with_bounded_queries(
    teammate_client: Client, campaign: Campaign, django_assert_max_num_queries: Any
) -> None:
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.com") for i in range(60)
    )
    BounceEvent.objects.bulk_create(
        BounceEvent(
            kind=Kind.HARD if i % 2 else Kind.SOFT,
            source=BounceEvent.Source.SMTP,
            email=s.email,
            campaign=campaign,
            subscriber=s,
            raw="x" * 10_000,
        )
        for i, s in enumerate(subscribers)
    )

    with django_assert_max_num_queries(6):
        response = teammate_client.get(reverse("bounces:index"))

    first = response.context["page"]
    assert len(first.items) == 50 and first.next_key is not None
    assert f"before={first.next_key}" in response.content.decode()
    second = teammate_client.get(reverse("bounces:index"), {"before": first.next_key})
    rest = second.context["page"]
    assert len(rest.items) == 10 and rest.next_key is None
    assert {e.pk for e in first.items}.isdisjoint({e.pk for e in rest.items})


def test_the_log_charts_hard_soft_and_complaints_per_day(teammate_client: Client) -> None:
    report(Kind.HARD, "a@example.com")
    report(Kind.COMPLAINT, "b@example.com")

    response = teammate_client.get(reverse("bounces:index"))

    charts = {row["kind"]: row["chart"] for row in response.context["charts"]}
    assert (charts["hard"].total, charts["soft"].total, charts["complaint"].total) == (1, 0, 1)
    assert len(charts["hard"].labels) == 30
    assert 'data-chart="complaint"' in response.content.decode()


# --- one report -------------------------------------------------------------------


def test_the_detail_page_shows_the_raw_report_escaped_and_the_suppression(
    teammate_client: Client, campaign: Campaign
) -> None:
    raw = "Subject: Undelivered\n\n<script>alert('x')</script> & more"
    event = report(campaign=campaign, raw=raw, diagnostic="550 " + "long " * 100)
    suppress(email=event.email, reason="hard_bounce", bounce=event, campaign=campaign)

    page = teammate_client.get(reverse("bounces:detail", args=[event.pk])).content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page
    assert '<pre class="preview-text" data-role="raw">' in page
    assert "long " * 100 in page.replace("<br>", "")
    assert 'data-role="caused-suppression"' in page and "is suppressed since" in page


def test_a_missing_report_is_a_404(teammate_client: Client, db: None) -> None:
    assert teammate_client.get(reverse("bounces:detail", args=[999])).status_code == 404


# --- suppressions -----------------------------------------------------------------


def test_the_list_shows_active_suppressions_with_their_cause(
    teammate_client: Client, campaign: Campaign, owner: User
) -> None:
    event = report(campaign=campaign)
    suppress(email="ann@example.com", reason="hard_bounce", bounce=event, campaign=campaign)
    lifted = suppress(email="old@example.com", reason="complaint")
    Suppression.objects.filter(pk=lifted.pk).update(lifted_at=timezone.now(), lifted_by=owner)

    page = teammate_client.get(reverse("bounces:suppressions")).content.decode()
    assert "ann@example.com" in page and "old@example.com" not in page
    assert reverse("bounces:detail", args=[event.pk]) in page
    assert reverse("campaigns:detail", args=[campaign.pk]) in page
    assert "data-confirm=" in page

    everything = teammate_client.get(reverse("bounces:suppressions"), {"lifted": "1"})
    page = everything.content.decode()
    assert "old@example.com" in page and "by owner" in page
    searched = teammate_client.get(reverse("bounces:suppressions"), {"q": "ANN"})
    assert [s.email for s in searched.context["page"].items] == ["ann@example.com"]


def test_the_suppression_list_queries_are_bounded(
    teammate_client: Client, campaign: Campaign, django_assert_max_num_queries: Any
) -> None:
    for i in range(60):
        event = report(email=f"r{i}@example.com", campaign=campaign, raw="x" * 10_000)
        suppress(email=event.email, reason="hard_bounce", bounce=event, campaign=campaign)

    with django_assert_max_num_queries(5):
        response = teammate_client.get(reverse("bounces:suppressions"))

    assert len(response.context["page"].items) == 50
    assert response.context["page"].next_key is not None


def test_lifting_records_who_and_when_and_the_address_is_sent_to_again(
    teammate_client: Client, teammate: User
) -> None:
    suppression = suppress(email="ann@example.com", reason="hard_bounce")

    response = teammate_client.post(
        reverse("bounces:suppression_lift", args=[suppression.pk]),
        {"next": reverse("bounces:suppressions") + "?q=ann"},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("bounces:suppressions") + "?q=ann"
    suppression.refresh_from_db()
    assert suppression.lifted_by == teammate
    assert suppression.lifted_at is not None
    assert (timezone.now() - suppression.lifted_at).total_seconds() < 60
    assert suppressed_emails(["ann@example.com"]) == {}


def test_lifting_never_redirects_off_site(teammate_client: Client) -> None:
    suppression = suppress(email="ann@example.com", reason="manual")
    response = teammate_client.post(
        reverse("bounces:suppression_lift", args=[suppression.pk]),
        {"next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("bounces:suppressions")


def test_an_admin_adds_an_address_by_hand_with_a_note(
    teammate_client: Client, teammate: User
) -> None:
    response = teammate_client.post(
        reverse("bounces:suppression_add"),
        {"email": " Carol@Example.com ", "note": "Asked by phone"},
        follow=True,
    )

    suppression = Suppression.objects.get()
    assert suppression.email == "carol@example.com"
    assert suppression.reason == Suppression.Reason.MANUAL
    assert suppression.note == "Asked by phone (added by teammate)"
    assert suppressed_emails(["carol@example.com"]) == {"carol@example.com": "manual"}
    assert "carol@example.com is suppressed" in response.content.decode()


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("not-an-address", "Enter a valid email address."),
        ("ann@example.com", "ann@example.com is already suppressed (Hard bounce)."),
    ],
)
def test_a_bad_or_duplicate_address_is_reported_beside_the_field(
    teammate_client: Client, email: str, message: str
) -> None:
    suppress(email="ann@example.com", reason="hard_bounce")

    response = teammate_client.post(reverse("bounces:suppression_add"), {"email": email})

    assert response.status_code == 400
    assert response.context["form"].errors["email"] == [message]
    html = response.content.decode()
    field = html[html.index('id="field-email"') : html.index('id="field-note"')]
    assert message in field
    assert Suppression.objects.count() == 1


# --- the policy -------------------------------------------------------------------

VALID_POLICY = {
    "hard_action": "suppress",
    "soft_action": "log",
    "soft_threshold": "4",
    "soft_window_days": "10",
    "complaint_action": "unsubscribe",
    "pause_complaint_rate": "0.25",
    "pause_hard_bounce_rate": "8",
    "pause_min_sent": "500",
}


def test_the_policy_form_shows_rates_as_percentages_with_help(
    teammate_client: Client, db: None
) -> None:
    response = teammate_client.get(reverse("bounces:policy"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="pause_complaint_rate" value="0.3"' in page
    assert 'name="pause_hard_bounce_rate" value="5"' in page
    assert "Mailbox providers start filtering around 0.3%" in page
    assert "removes the subscriber from every list" in page


def test_saving_the_policy_stores_fractions(teammate_client: Client, db: None) -> None:
    response = teammate_client.post(reverse("bounces:policy"), VALID_POLICY)

    assert response.status_code == 302
    policy = BouncePolicy.current()
    assert (policy.soft_action, policy.soft_threshold, policy.soft_window_days) == ("log", 4, 10)
    assert policy.pause_complaint_rate == 0.0025
    assert policy.pause_hard_bounce_rate == 0.08
    assert policy.pause_min_sent == 500


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("soft_threshold", "0", "Suppress after at least 1 soft bounce."),
        ("soft_window_days", "400", "The window is from 1 to 365 days."),
        ("pause_complaint_rate", "150", "A rate is from 0% to 100%."),
        ("pause_hard_bounce_rate", "lots", "Enter a number."),
        ("pause_min_sent", "0", "Judge a campaign after at least 1 message."),
        (
            "hard_action",
            "explode",
            "Select a valid choice. explode is not one of the available choices.",
        ),
    ],
)
def test_policy_errors_are_shown_beside_their_field(
    teammate_client: Client, db: None, field: str, value: str, message: str
) -> None:
    response = teammate_client.post(reverse("bounces:policy"), {**VALID_POLICY, field: value})

    assert response.status_code == 400
    assert response.context["form"].errors[field] == [message]
    html = response.content.decode()
    start = html.index(f'id="field-{field}"')
    end = html.find('id="field-', start + 1)
    assert message in html[start : end if end > 0 else None].replace("&#x27;", "'")
    assert BouncePolicy.current().soft_threshold == 3  # unchanged


# --- figures on other pages -------------------------------------------------------


def test_the_campaign_page_shows_bounce_figures(
    teammate_client: Client, campaign: Campaign
) -> None:
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@gmail.com") for i in range(99)
    )
    Delivery.objects.bulk_create(
        Delivery(campaign=campaign, subscriber=s, status=Delivery.Status.SENT) for s in subscribers
    )
    report(Kind.HARD, "gone@yahoo.com", campaign=campaign)
    report(Kind.SOFT, "r1@gmail.com", campaign=campaign, diagnostic="452 4.2.2 Mailbox full")
    report(Kind.COMPLAINT, "r2@gmail.com", campaign=campaign)

    response = teammate_client.get(reverse("campaigns:detail", args=[campaign.pk]))

    figures = response.context["bounce_figures"]
    assert (figures.summary.sent, figures.summary.hard, figures.summary.soft) == (99, 1, 1)
    page = response.content.decode()
    assert '<span data-figure="bounce-rate">2%</span>' in page
    assert '<span data-figure="complaint-rate">1%</span>' in page
    assert "452 4.2.2 mailbox full" in page and "yahoo.com" in page
    assert f"{reverse('bounces:index')}?campaign={campaign.pk}" in page
    # The live-refreshed fragment carries the same figures.
    fragment = teammate_client.get(reverse("campaigns:activity", args=[campaign.pk]))
    assert '<span data-figure="bounce-rate">2%</span>' in fragment.content.decode()


def test_the_dashboard_shows_the_last_30_days_of_bounces(
    teammate_client: Client, campaign: Campaign
) -> None:
    report(Kind.HARD, "a@example.com", campaign=campaign)

    response = teammate_client.get(reverse("dashboard"))

    assert response.context["bounce_figures"].summary.hard == 1
    page = response.content.decode()
    assert 'data-role="bounce-card"' in page and "last 30 days" in page


# --- the Django admin -------------------------------------------------------------


def test_the_mailbox_admin_never_shows_the_password(owner_client: Client) -> None:
    mailbox = Mailbox(name="Bounces", host="imap.example.com", username="bounce")
    mailbox.password = "hunter2-secret"
    mailbox.save()

    page = owner_client.get(reverse("admin:bounces_mailbox_change", args=[mailbox.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "hunter2-secret" not in html and mailbox.password_encrypted not in html


def test_a_password_typed_in_the_admin_is_stored_encrypted(owner_client: Client) -> None:
    response = owner_client.post(
        reverse("admin:bounces_mailbox_add"),
        {
            "name": "Bounces",
            "protocol": "imap",
            "host": "imap.example.com",
            "port": "993",
            "security": "tls",
            "username": "bounce",
            "new_password": "s3cret",
            "folder": "INBOX",
            "after_processing": "delete",
            "move_to": "Processed",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    mailbox = Mailbox.objects.get()
    assert mailbox.password == "s3cret" and "s3cret" not in mailbox.password_encrypted


def test_bounce_reports_are_read_only_in_the_admin(owner_client: Client) -> None:
    event = report()
    assert owner_client.get(reverse("admin:bounces_bounceevent_add")).status_code == 403
    change = owner_client.post(
        reverse("admin:bounces_bounceevent_change", args=[event.pk]), {"email": "x@example.com"}
    )
    assert change.status_code == 403
    event.refresh_from_db()
    assert event.email == "ann@example.com"
