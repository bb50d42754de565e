"""Why people left a campaign, as its report counts them: each person once,
under the latest reason they gave through that campaign's links."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from subscribers import consent, privacy, services
from subscribers.models import ConsentEvent, MailingList, Subscriber
from subscribers.selectors import ReasonCount, unsubscribe_reasons
from tests.support.factories import make_campaign

TOO_MANY = ConsentEvent.Reason.TOO_MANY
NOT_RELEVANT = ConsentEvent.Reason.NOT_RELEVANT
OTHER = ConsentEvent.Reason.OTHER


@pytest.fixture
def news(db: None) -> MailingList:
    return services.create_list(name="News")


@pytest.fixture
def offers(db: None) -> MailingList:
    return services.create_list(name="Offers")


@pytest.fixture
def campaign(news: MailingList, offers: MailingList) -> Campaign:
    return make_campaign(lists=[news, offers], server=None)


def person(email: str, *lists: MailingList) -> Subscriber:
    return services.create_subscriber(email=email, lists=list(lists))


def leave(
    subscriber: Subscriber,
    campaign: Campaign | None,
    *lists: MailingList,
    code: str = "",
    text: str = "",
) -> None:
    """Unsubscribe as the campaign's unsubscribe page does."""
    services.unsubscribe(
        subscriber_id=subscriber.pk,
        list_ids=[m.pk for m in lists] or None,
        origin=consent.Origin(via=ConsentEvent.Via.LINK).through_campaign(
            campaign.pk if campaign else None
        ),
        given=consent.GivenReason(code=code, text=text),
    )


def test_each_reason_counts_people_with_no_reason_given_as_its_own_row(
    campaign: Campaign, news: MailingList, offers: MailingList, django_assert_num_queries: Any
) -> None:
    leave(person("ada@example.com", news, offers), campaign, code=TOO_MANY)  # two rows, one person
    leave(person("bob@example.com", news), campaign, code=TOO_MANY, text="Daily is a lot")
    leave(person("cy@example.com", news), campaign, code=OTHER)
    leave(person("dee@example.com", news), campaign)
    leave(person("eve@example.com", news), campaign, text="Only words, no code")

    with django_assert_num_queries(1):
        counts = unsubscribe_reasons(campaign.pk)

    assert counts == [
        ReasonCount(code="too_many", label="Too many emails", count=2),
        ReasonCount(code="other", label="Something else", count=1),
        ReasonCount(code="", label="No reason given", count=2),
    ]


def test_someone_who_left_twice_through_one_campaign_counts_once_under_their_latest_reason(
    campaign: Campaign, news: MailingList, offers: MailingList
) -> None:
    ada = person("ada@example.com", news, offers)
    leave(ada, campaign, news, code=TOO_MANY)
    leave(ada, campaign, offers)  # the second time they said nothing: the first reason stands
    services.subscribe(subscriber=ada, lists=[news], preconfirm=True)
    leave(ada, campaign, news, code=NOT_RELEVANT)

    assert unsubscribe_reasons(campaign.pk) == [
        ReasonCount(code="not_relevant", label="Not what I expected", count=1)
    ]


def test_only_this_campaigns_unsubscribes_count(campaign: Campaign, news: MailingList) -> None:
    other = make_campaign(lists=[news], server=None, name="Autumn news")
    leave(person("ada@example.com", news), other, code=TOO_MANY)
    leave(person("bob@example.com", news), None, code=OTHER)  # the preference centre, no campaign
    services.unsubscribe(  # a complaint: our note, no campaign link
        subscriber_id=person("cy@example.com", news).pk, reason="Complaint (abuse)"
    )

    assert unsubscribe_reasons(campaign.pk) == []
    assert unsubscribe_reasons(other.pk) == [
        ReasonCount(code="too_many", label="Too many emails", count=1)
    ]


def test_a_deleted_subscriber_is_no_longer_counted(campaign: Campaign, news: MailingList) -> None:
    ada = person("ada@example.com", news)
    leave(ada, campaign, code=TOO_MANY)
    ada.delete()
    assert unsubscribe_reasons(campaign.pk) == []


def test_the_reason_shows_in_the_consent_history_and_the_data_export(
    teammate_client: Client, campaign: Campaign, news: MailingList
) -> None:
    ada = person("ada@example.com", news)
    leave(ada, campaign, code=TOO_MANY, text="Weekly would do")

    page = teammate_client.get(reverse("subscribers:detail", args=[ada.pk])).text
    assert "Reason: Too many emails: “Weekly would do”" in page
    history = privacy.export_data(ada)["consent_history"]
    assert [(e["what"], e["reason"]) for e in history] == [
        ("subscribed", None),
        ("unsubscribed", "Too many emails: “Weekly would do”"),
    ]


@pytest.mark.parametrize(
    ("code", "text", "summary"),
    [
        ("too_many", "", "Too many emails"),
        ("", "Just words", "“Just words”"),
        ("other", "Moving abroad", "Something else: “Moving abroad”"),
        ("", "", ""),
    ],
)
def test_a_reason_reads_as_one_line(code: str, text: str, summary: str) -> None:
    assert ConsentEvent(reason=code, reason_text=text).reason_summary() == summary


def test_unsubscribes_written_before_reasons_had_codes_get_the_code_their_note_names(
    news: MailingList,
) -> None:
    """The preference centre used to write "Reason: <label>; <words>" in the note."""
    notes = {
        "ada@example.com": "Reason: Too many emails; Weekly would do",
        "bob@example.com": "Reason: I never signed up",
        "cy@example.com": "Reason: Too many emails at once, honestly",  # their words, no code
        "dee@example.com": "Complaint (abuse)",
    }
    for email, note in notes.items():
        services.unsubscribe(subscriber_id=person(email, news).pk, reason=note)
    migration = importlib.import_module("subscribers.migrations.0015_consent_reason")

    migration.code_legacy_reasons(apps, None)

    rows = ConsentEvent.objects.filter(kind="unsubscribed").values_list(
        "subscriber__email", "reason", "note"
    )
    assert {email: (code, note) for email, code, note in rows} == {
        "ada@example.com": ("too_many", notes["ada@example.com"]),
        "bob@example.com": ("never_asked", notes["bob@example.com"]),
        "cy@example.com": ("", notes["cy@example.com"]),
        "dee@example.com": ("", notes["dee@example.com"]),
    }
