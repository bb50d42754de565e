"""The bounce policy end to end: what each report does to the address and to
the campaign, through ``apply_policy`` and ``check_campaign_health``."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from bounces.models import BounceEvent, BouncePolicy, Suppression
from bounces.services import (
    apply_policy,
    check_campaign_health,
    suppressed_emails,
    update_policy,
)
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber, Subscription
from subscribers.services import create_list, create_subscriber

pytestmark = pytest.mark.django_db

Kind = BounceEvent.Kind
LOG = BouncePolicy.Action.LOG

DEFAULTS = {
    "hard_action": "suppress",
    "soft_action": "suppress",
    "soft_threshold": 3,
    "soft_window_days": 14,
    "complaint_action": "unsubscribe",
    "pause_complaint_rate": 0.003,
    "pause_hard_bounce_rate": 0.05,
    "pause_min_sent": 200,
}


def policy(**changes: object) -> BouncePolicy:
    return update_policy(**{**DEFAULTS, **changes})  # type: ignore[arg-type]


def report(
    kind: str,
    email: str = "ann@example.com",
    *,
    campaign: Campaign | None = None,
    subscriber: Subscriber | None = None,
    days_ago: int = 0,
) -> BounceEvent:
    event = BounceEvent.objects.create(
        kind=kind,
        source=BounceEvent.Source.INBOUND,
        email=email,
        status="5.1.1" if kind == Kind.HARD else "4.2.2",
        campaign=campaign,
        subscriber=subscriber,
    )
    if days_ago:
        BounceEvent.objects.filter(pk=event.pk).update(
            received_at=timezone.now() - timedelta(days=days_ago)
        )
        event.refresh_from_db()
    return event


def running_campaign(sent: int) -> Campaign:
    campaign = Campaign.objects.create(
        name="Spring",
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        status=Campaign.Status.RUNNING,
    )
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{i}@example.com") for i in range(sent)
    )
    Delivery.objects.bulk_create(
        Delivery(campaign=campaign, subscriber=s, status=Delivery.Status.SENT) for s in subscribers
    )
    return campaign


# --- addresses --------------------------------------------------------------------


def test_a_hard_bounce_suppresses_the_address_at_once() -> None:
    campaign = running_campaign(0)
    event = report(Kind.HARD, "Gone@Example.com", campaign=campaign)

    suppression = apply_policy(event, policy())

    assert suppression is not None
    assert (suppression.reason, suppression.bounce, suppression.campaign) == (
        Suppression.Reason.HARD_BOUNCE,
        event,
        campaign,
    )
    assert suppressed_emails(["gone@example.com"]) == {"gone@example.com": "hard_bounce"}


def test_soft_bounces_suppress_on_the_nth_within_the_window() -> None:
    rules = policy(soft_threshold=3, soft_window_days=7)
    report(Kind.SOFT, days_ago=6)
    second = report(Kind.SOFT, days_ago=1)
    assert apply_policy(second, rules) is None

    third = report(Kind.SOFT)

    suppression = apply_policy(third, rules)
    assert suppression is not None and suppression.reason == Suppression.Reason.SOFT_BOUNCES
    assert suppression.bounce == third
    assert "3 soft bounces in 7 days" in suppression.note


def test_soft_bounces_older_than_the_window_do_not_count() -> None:
    rules = policy(soft_threshold=3, soft_window_days=7)
    report(Kind.SOFT, days_ago=8)
    report(Kind.SOFT, days_ago=30)
    report(Kind.SOFT, "someone-else@example.com")
    latest = report(Kind.SOFT)

    assert apply_policy(latest, rules) is None
    assert not Suppression.objects.exists()


def test_a_complaint_unsubscribes_from_every_list_and_suppresses() -> None:
    news, offers = create_list(name="News"), create_list(name="Offers")
    ann = create_subscriber(email="ann@example.com", lists=[news, offers])
    event = report(Kind.COMPLAINT, subscriber=ann)

    suppression = apply_policy(event, policy())

    assert suppression is not None and suppression.reason == Suppression.Reason.COMPLAINT
    statuses = set(ann.subscriptions.values_list("status", flat=True))
    assert statuses == {Subscription.Status.UNSUBSCRIBED}
    assert suppressed_emails(["ann@example.com"]) == {"ann@example.com": "complaint"}


@pytest.mark.parametrize(
    ("kind", "change"),
    [
        (Kind.HARD, {"hard_action": LOG}),
        (Kind.SOFT, {"soft_action": LOG, "soft_threshold": 1}),
        (Kind.COMPLAINT, {"complaint_action": BouncePolicy.ComplaintAction.LOG}),
    ],
)
def test_log_only_records_the_report_and_suppresses_nothing(
    kind: str, change: dict[str, object]
) -> None:
    news = create_list(name="News")
    ann = create_subscriber(email="ann@example.com", lists=[news])
    event = report(kind, subscriber=ann)

    assert apply_policy(event, policy(**change)) is None

    assert BounceEvent.objects.filter(pk=event.pk).exists()
    assert not Suppression.objects.exists()
    assert ann.subscriptions.get().status == Subscription.Status.CONFIRMED


def test_the_policy_as_saved_in_the_ui_is_the_one_applied() -> None:
    policy(hard_action=LOG)
    event = report(Kind.HARD)

    assert apply_policy(event) is None  # reads BouncePolicy.current()


# --- campaigns --------------------------------------------------------------------


def test_a_running_campaign_at_0_4_percent_complaints_is_paused_with_the_reason() -> None:
    campaign = running_campaign(1000)
    for i in range(4):
        report(Kind.COMPLAINT, f"r{i}@example.com", campaign=campaign)

    assert check_campaign_health(campaign.pk, policy(pause_min_sent=1000)) is True

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert campaign.status_reason.startswith("Paused automatically: complaint rate 0.40%")
    assert "(4 of 1000)" in campaign.status_reason and "above 0.30%" in campaign.status_reason


def test_a_campaign_under_the_complaint_threshold_keeps_running() -> None:
    campaign = running_campaign(1000)
    for i in range(3):
        report(Kind.COMPLAINT, f"r{i}@example.com", campaign=campaign)

    assert check_campaign_health(campaign.pk, policy()) is False

    campaign.refresh_from_db()
    assert (campaign.status, campaign.status_reason) == (Campaign.Status.RUNNING, "")


def test_rates_are_not_judged_before_the_minimum_is_sent() -> None:
    campaign = running_campaign(150)
    for i in range(5):
        report(Kind.COMPLAINT, f"r{i}@example.com", campaign=campaign)

    assert check_campaign_health(campaign.pk, policy(pause_min_sent=200)) is False
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.RUNNING


def test_a_hard_bounce_rate_above_the_configured_threshold_pauses_the_campaign() -> None:
    campaign = running_campaign(200)
    for i in range(10):
        report(Kind.HARD, f"gone{i}@example.com", campaign=campaign)

    # Reports about delivered messages add no attempt: 10 of 200 sent is 5%,
    # above a 4% threshold, not above the default 5%.
    assert check_campaign_health(campaign.pk, policy()) is False
    assert check_campaign_health(campaign.pk, policy(pause_hard_bounce_rate=0.04)) is True

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.PAUSED
    assert "hard-bounce rate 5.0%" in campaign.status_reason


# --- saving the policy ------------------------------------------------------------


def test_update_policy_saves_the_single_row() -> None:
    saved = policy(soft_threshold=5, soft_window_days=30, pause_complaint_rate=0.001)

    assert BouncePolicy.objects.count() == 1
    current = BouncePolicy.current()
    assert current.pk == saved.pk
    assert (current.soft_threshold, current.soft_window_days) == (5, 30)
    assert current.pause_complaint_rate == 0.001


def test_update_policy_reports_every_problem_by_field() -> None:
    with pytest.raises(ValidationError) as caught:
        policy(
            hard_action="explode",
            soft_threshold=0,
            soft_window_days=400,
            complaint_action="suppress",
            pause_complaint_rate=1.5,
            pause_hard_bounce_rate=float("nan"),
            pause_min_sent=0,
        )

    assert set(caught.value.message_dict) == {
        "hard_action",
        "soft_threshold",
        "soft_window_days",
        "complaint_action",
        "pause_complaint_rate",
        "pause_hard_bounce_rate",
        "pause_min_sent",
    }
    assert BouncePolicy.current().soft_threshold == 3  # nothing saved


def test_a_not_spam_or_auth_failure_report_suppresses_nobody(db: None) -> None:
    from bounces.models import BounceEvent, Suppression
    from bounces.services import ingest_message

    for feedback_type in ("not-spam", "auth-failure"):
        raw = (
            "From: fbl@isp.example\r\nTo: bounces@postino.example.com\r\n"
            "Subject: report\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=feedback-report; boundary="x"\r\n\r\n'
            "--x\r\nContent-Type: text/plain\r\n\r\nA report.\r\n"
            "--x\r\nContent-Type: message/feedback-report\r\n\r\n"
            f"Feedback-Type: {feedback_type}\r\nUser-Agent: Test/1.0\r\nVersion: 1\r\n"
            "Original-Rcpt-To: someone@example.org\r\n"
            "--x\r\nContent-Type: text/rfc822-headers\r\n\r\n"
            "From: news@postino.example.com\r\nTo: someone@example.org\r\nSubject: News\r\n"
            "--x--\r\n"
        ).encode()
        (event,) = ingest_message(raw, source=BounceEvent.Source.INBOUND)
        assert (event.kind, event.feedback_type) == ("not_bounce", feedback_type)
    assert not Suppression.objects.exists()
