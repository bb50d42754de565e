"""Scheduling in a chosen time zone: wall-clock times to instants, DST gaps and
folds refused, past times refused, and changing or unscheduling a schedule,
including the race with the scheduler claiming the campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns import schedule
from campaigns.models import Campaign
from campaigns.services import (
    CampaignStateError,
    cancel_campaign,
    reschedule_campaign,
    start_campaign,
    start_due_scheduled_campaigns,
    start_scheduled_campaign,
    unschedule_campaign,
)
from delivery.models import Delivery, SmtpServer
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db

NEXT_YEAR = timezone.now().year + 1


@pytest.fixture
def server() -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


@pytest.fixture
def draft(server: SmtpServer) -> Campaign:
    news = make_list()
    add_audience(news, 2)
    return make_campaign(lists=[news], server=server)


def _scheduled(campaign: Campaign, *, in_hours: float = 24) -> Campaign:
    at = timezone.now() + timedelta(hours=in_hours)
    return start_campaign(campaign=campaign, scheduled_at=at, schedule_timezone="Europe/Berlin")


def test_a_wall_clock_time_is_read_in_its_zone_in_winter_and_in_summer() -> None:
    winter = schedule.local_to_instant(datetime(NEXT_YEAR, 1, 15, 9, 0), "Europe/Berlin")
    summer = schedule.local_to_instant(datetime(NEXT_YEAR, 7, 15, 9, 0), "Europe/Berlin")
    assert winter == datetime(NEXT_YEAR, 1, 15, 8, 0, tzinfo=UTC)
    assert summer == datetime(NEXT_YEAR, 7, 15, 7, 0, tzinfo=UTC)


def test_it_is_shown_in_its_zone_with_utc_beside_it() -> None:
    at = datetime(2027, 3, 1, 8, 0, tzinfo=UTC)
    assert schedule.describe(at, "Europe/Berlin") == "2027-03-01 09:00 Europe/Berlin (08:00 UTC)"
    assert schedule.describe(at, "") == "2027-03-01 08:00 UTC"  # the site's zone in tests
    late = datetime(2027, 3, 2, 2, 0, tzinfo=UTC)
    assert schedule.describe(late, "America/New_York") == (
        "2027-03-01 21:00 America/New_York (2027-03-02 02:00 UTC)"
    )


def test_a_time_the_clocks_skip_is_refused_saying_so() -> None:
    # Berlin, last Sunday of March 2027: 02:00 becomes 03:00.
    with pytest.raises(ValidationError) as caught:
        schedule.local_to_instant(datetime(2027, 3, 28, 2, 30), "Europe/Berlin")
    assert caught.value.message_dict["scheduled_at"] == [
        "2027-03-28 02:30 does not exist in Europe/Berlin: clocks go forward by 1 hour that "
        "night (UTC+01:00 to UTC+02:00). Choose a time outside the skipped 1 hour."
    ]


def test_a_time_that_happens_twice_is_refused_naming_both_instants() -> None:
    # Berlin, last Sunday of October 2027: 03:00 becomes 02:00 again.
    with pytest.raises(ValidationError) as caught:
        schedule.local_to_instant(datetime(2027, 10, 31, 2, 30), "Europe/Berlin")
    [message] = caught.value.message_dict["scheduled_at"]
    assert message.startswith("2027-10-31 02:30 happens twice in Europe/Berlin")
    assert "00:30 UTC (UTC+02:00) and again 01:30 UTC (UTC+01:00)" in message
    # An hour either side is fine.
    assert schedule.local_to_instant(datetime(2027, 10, 31, 3, 30), "Europe/Berlin") == (
        datetime(2027, 10, 31, 2, 30, tzinfo=UTC)
    )


def test_an_unknown_zone_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        schedule.clean_zone_name("Mars/Olympus_Mons")
    assert "is not a time zone we know" in caught.value.message_dict["schedule_timezone"][0]


def test_the_site_zone_comes_first_among_the_choices() -> None:
    choices = schedule.zone_choices()
    assert choices[0] == ("UTC", "UTC (site default)")
    assert ("Europe/Berlin", "Europe/Berlin") in choices


def test_a_past_time_is_refused_in_the_zone_it_was_given_in(draft: Campaign) -> None:
    past = timezone.now() - timedelta(hours=2)
    with pytest.raises(ValidationError) as caught:
        start_campaign(campaign=draft, scheduled_at=past, schedule_timezone="Asia/Tokyo")
    [message] = caught.value.message_dict["scheduled_at"]
    local = past.astimezone(schedule.zone_of("Asia/Tokyo"))
    assert message.startswith(f"{local:%Y-%m-%d %H:%M} (Asia/Tokyo) has already passed")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.DRAFT


def test_scheduling_stores_the_instant_and_the_zone(draft: Campaign) -> None:
    at = schedule.local_to_instant(datetime(NEXT_YEAR, 3, 1, 9, 0), "Europe/Berlin")
    start_campaign(campaign=draft, scheduled_at=at, schedule_timezone="Europe/Berlin")
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SCHEDULED
    assert draft.scheduled_at == datetime(NEXT_YEAR, 3, 1, 8, 0, tzinfo=UTC)
    assert draft.schedule_timezone == "Europe/Berlin"


def test_rescheduling_moves_the_time_and_zone(draft: Campaign) -> None:
    _scheduled(draft)
    later = timezone.now() + timedelta(days=3)
    reschedule_campaign(campaign=draft, scheduled_at=later, schedule_timezone="Asia/Tokyo")
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_at, draft.schedule_timezone) == (
        Campaign.Status.SCHEDULED,
        later,
        "Asia/Tokyo",
    )


def test_rescheduling_into_the_past_changes_nothing(draft: Campaign) -> None:
    before = _scheduled(draft).scheduled_at
    with pytest.raises(ValidationError):
        reschedule_campaign(campaign=draft, scheduled_at=timezone.now() - timedelta(minutes=1))
    draft.refresh_from_db()
    assert draft.scheduled_at == before


def test_unscheduling_returns_a_draft_that_can_be_scheduled_again(draft: Campaign) -> None:
    _scheduled(draft)
    unschedule_campaign(campaign=draft)
    draft.refresh_from_db()
    assert (draft.status, draft.scheduled_at, draft.schedule_timezone) == ("draft", None, "")
    assert draft.is_editable
    _scheduled(draft, in_hours=5)
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SCHEDULED


def test_cancel_still_ends_a_scheduled_campaign_for_good(draft: Campaign) -> None:
    _scheduled(draft)
    cancel_campaign(campaign=draft)
    with pytest.raises(CampaignStateError):
        unschedule_campaign(campaign=draft)
    assert draft.status == Campaign.Status.CANCELLED


def test_a_draft_cannot_be_rescheduled_or_unscheduled(draft: Campaign) -> None:
    with pytest.raises(CampaignStateError, match="it is not scheduled"):
        reschedule_campaign(campaign=draft, scheduled_at=timezone.now() + timedelta(days=1))
    with pytest.raises(CampaignStateError, match="it is not scheduled"):
        unschedule_campaign(campaign=draft)


def test_once_the_scheduler_claimed_it_a_reschedule_is_refused_and_changes_nothing(
    draft: Campaign,
) -> None:
    _scheduled(draft)
    Campaign.objects.filter(pk=draft.pk).update(scheduled_at=timezone.now())
    assert start_due_scheduled_campaigns() == [draft.pk]
    with pytest.raises(CampaignStateError, match="already started sending"):
        reschedule_campaign(campaign=draft, scheduled_at=timezone.now() + timedelta(days=1))
    with pytest.raises(CampaignStateError, match="already started sending"):
        unschedule_campaign(campaign=draft)
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.RUNNING


def test_a_campaign_rescheduled_after_the_scheduler_found_it_due_does_not_start(
    draft: Campaign,
) -> None:
    # The scheduler read the due ids at ``now``; then a person moved the campaign
    # to next week before the scheduler got to it.
    _scheduled(draft)
    now = timezone.now()
    Campaign.objects.filter(pk=draft.pk).update(scheduled_at=now - timedelta(seconds=1))
    reschedule_campaign(campaign=draft, scheduled_at=now + timedelta(days=7))
    assert start_scheduled_campaign(draft.pk, now=now) is False
    draft.refresh_from_db()
    assert draft.status == Campaign.Status.SCHEDULED
    assert not Delivery.objects.filter(campaign=draft).exists()


def test_a_campaign_unscheduled_after_the_scheduler_found_it_due_stays_a_draft(
    draft: Campaign,
) -> None:
    _scheduled(draft)
    now = timezone.now()
    Campaign.objects.filter(pk=draft.pk).update(scheduled_at=now - timedelta(seconds=1))
    unschedule_campaign(campaign=draft)
    assert start_scheduled_campaign(draft.pk, now=now) is False
    draft.refresh_from_db()
    assert (draft.status, draft.status_reason) == (Campaign.Status.DRAFT, "")
    assert not Delivery.objects.filter(campaign=draft).exists()
