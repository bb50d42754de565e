"""Bounce figures: rates, splits and groupings, from events built with the ORM."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from bounces import selectors
from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import Delivery
from subscribers.models import Subscriber

pytestmark = pytest.mark.django_db

Kind = BounceEvent.Kind


def make_campaign(name: str = "Spring news") -> Campaign:
    return Campaign.objects.create(
        name=name, subject="Hi", from_email="news@example.com", html="<p>Hi</p>"
    )


def send(campaign: Campaign, count: int, *, domain: str = "example.com", start: int = 0) -> None:
    """``count`` delivered messages (new subscribers each)."""
    subscribers = Subscriber.objects.bulk_create(
        Subscriber(email=f"r{start + i}.{campaign.pk}@{domain}") for i in range(count)
    )
    now = timezone.now()
    Delivery.objects.bulk_create(
        Delivery(campaign=campaign, subscriber=s, status=Delivery.Status.SENT, sent_at=now)
        for s in subscribers
    )


def event(
    kind: str,
    email: str,
    campaign: Campaign | None = None,
    *,
    status: str = "",
    diagnostic: str = "",
    days_ago: int = 0,
) -> BounceEvent:
    created = BounceEvent.objects.create(
        kind=kind,
        source=BounceEvent.Source.INBOUND,
        email=email,
        status=status,
        diagnostic=diagnostic,
        campaign=campaign,
    )
    if days_ago:
        BounceEvent.objects.filter(pk=created.pk).update(
            received_at=timezone.now() - timedelta(days=days_ago)
        )
    return created


def test_rates_split_and_complaints_for_one_campaign() -> None:
    campaign = make_campaign()
    send(campaign, 196)
    for i in range(4):
        event(Kind.HARD, f"gone{i}@example.com", campaign)
    event(Kind.SOFT, "full@example.com", campaign)
    event(Kind.SOFT, "full2@example.com", campaign)
    event(Kind.COMPLAINT, "angry@example.com", campaign)
    event(Kind.AUTOREPLY, "away@example.com", campaign)
    event(Kind.DELAY, "slow@example.com", campaign)

    summary = selectors.campaign_bounce_summary([campaign.pk])[campaign.pk]

    assert (summary.sent, summary.hard, summary.soft, summary.complaints) == (196, 4, 2, 1)
    # These reports came back after delivery: each was already counted as sent.
    assert summary.attempted == 196
    assert summary.bounce_rate == pytest.approx(6 / 196)
    assert summary.hard_rate == pytest.approx(4 / 196)
    assert summary.complaint_rate == pytest.approx(1 / 196)
    assert summary.hard_share == 67
    assert (summary.bounce_percent, summary.hard_percent, summary.complaint_percent) == (
        "3.1%",
        "2%",
        "0.51%",
    )


def test_many_campaigns_cost_one_query(django_assert_num_queries: object) -> None:
    first, second, quiet = make_campaign("A"), make_campaign("B"), make_campaign("C")
    send(first, 10)
    send(second, 20)
    event(Kind.HARD, "x@example.com", first)
    event(Kind.COMPLAINT, "y@example.com", second)
    event(Kind.COMPLAINT, "z@example.com", second)

    with django_assert_num_queries(1):  # type: ignore[operator]
        summaries = selectors.campaign_bounce_summary([first.pk, second.pk, quiet.pk])

    assert (summaries[first.pk].sent, summaries[first.pk].hard) == (10, 1)
    assert (summaries[second.pk].sent, summaries[second.pk].complaints) == (20, 2)
    assert summaries[quiet.pk] == selectors.BounceSummary()
    assert summaries[quiet.pk].bounce_rate == 0.0 and summaries[quiet.pk].is_empty


def test_no_campaigns_cost_no_query(django_assert_num_queries: object) -> None:
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert selectors.campaign_bounce_summary([]) == {}


def test_top_reasons_group_the_same_refusal_to_different_recipients() -> None:
    campaign = make_campaign()
    for name in ("ann", "bob", "cy"):
        event(
            Kind.HARD,
            f"{name}@gmail.com",
            campaign,
            status="5.1.1",
            diagnostic=f"550-5.1.1 The email account <{name}@gmail.com> that you tried to "
            f"reach does not exist. {name}1a2b3c4d5e - gsmtp",
        )
    for name in ("dee", "eve"):
        event(
            Kind.SOFT,
            f"{name}@example.org",
            campaign,
            status="4.2.2",
            diagnostic=f"452 4.2.2 Mailbox full: {name}@example.org (queue id 918273)",
        )
    event(Kind.HARD, "fay@example.net", campaign, status="5.7.1", diagnostic="Blocked by policy")
    event(Kind.COMPLAINT, "gus@example.net", campaign)  # complaints are not bounce reasons
    event(Kind.HARD, "other@x.com", make_campaign("Other"), status="5.1.1", diagnostic="no")

    reasons = selectors.top_reasons(campaign.pk)

    assert [(r.status, r.count) for r in reasons] == [("5.1.1", 3), ("4.2.2", 2), ("5.7.1", 1)]
    assert reasons[0].snippet.startswith("550-5.1.1 the email account <address> that you tried")
    assert "ann" not in reasons[0].snippet and "bob" not in reasons[0].snippet
    assert reasons[1].snippet == "452 4.2.2 mailbox full: (queue id …)"
    assert selectors.top_reasons(campaign.pk, limit=1) == reasons[:1]


def test_diagnostics_lose_addresses_ids_and_ip_addresses_but_keep_codes() -> None:
    text = "550 5.1.1 <a@b.com>: Recipient rejected by 10.0.0.12 (id 8f3a9c2e11d0)"
    assert selectors.normalise_diagnostic(text) == (
        "550 5.1.1 <address>: recipient rejected by … (id …)"
    )


def test_top_domains_count_bounces_and_complaints_per_recipient_domain() -> None:
    campaign = make_campaign()
    event(Kind.HARD, "a@Gmail.com", campaign)
    event(Kind.SOFT, "b@gmail.com", campaign)
    event(Kind.COMPLAINT, "c@gmail.com", campaign)
    event(Kind.HARD, "d@yahoo.com", campaign)
    event(Kind.HARD, "e@yahoo.com", campaign)
    event(Kind.HARD, "f@tiny.org", campaign)
    event(Kind.AUTOREPLY, "g@tiny.org", campaign)
    event(Kind.HARD, "h@elsewhere.com", make_campaign("Other"))

    domains = selectors.top_domains(campaign.pk, limit=2)

    assert [(d.domain, d.hard, d.soft, d.complaints) for d in domains] == [
        ("gmail.com", 1, 1, 1),
        ("yahoo.com", 2, 0, 0),
    ]


def test_dashboard_totals_cover_the_last_30_days_of_every_campaign() -> None:
    first, second = make_campaign("A"), make_campaign("B")
    send(first, 50)
    send(second, 50)
    Delivery.objects.filter(campaign=second).update(sent_at=timezone.now() - timedelta(days=40))
    event(Kind.HARD, "a@example.com", first)
    event(Kind.COMPLAINT, "b@example.com", second)
    event(Kind.SOFT, "c@example.com", None)
    event(Kind.HARD, "old@example.com", first, days_ago=45)

    totals = selectors.bounce_totals(30)

    assert (totals.sent, totals.hard, totals.soft, totals.complaints) == (50, 1, 1, 1)
    assert selectors.bounce_totals(60).sent == 100


def test_per_day_counts_fill_every_day_with_zeros() -> None:
    event(Kind.HARD, "a@example.com")
    event(Kind.HARD, "b@example.com")
    event(Kind.SOFT, "c@example.com", days_ago=3)
    event(Kind.COMPLAINT, "d@example.com", days_ago=40)
    event(Kind.DELAY, "e@example.com")

    per_day = selectors.bounces_per_day(30)

    assert set(per_day) == {"hard", "soft", "complaint"}
    assert all(len(points) == 30 for points in per_day.values())
    assert per_day["hard"][-1] == (timezone.localdate(), 2)
    assert sum(n for _, n in per_day["soft"]) == 1
    assert per_day["soft"][-4][1] == 1
    assert sum(n for _, n in per_day["complaint"]) == 0


def test_the_log_filters_and_never_loads_the_raw_report() -> None:
    campaign = make_campaign()
    hard = event(Kind.HARD, "ann@example.com", campaign)
    event(Kind.SOFT, "bob@example.com", campaign)
    BounceEvent.objects.filter(pk=hard.pk).update(source=BounceEvent.Source.WEBHOOK)

    assert list(selectors.bounce_log(kind="hard")) == [hard]
    assert list(selectors.bounce_log(source="webhook")) == [hard]
    assert list(selectors.bounce_log(query=" ANN@")) == [hard]
    assert selectors.bounce_log(campaign_id=campaign.pk).count() == 2
    assert "raw" in selectors.bounce_log().first().get_deferred_fields()  # type: ignore[union-attr]
