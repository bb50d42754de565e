"""Templates are checked against real members: their data decides, the sample only guides.

``subscriber.attributes.city.upper()`` is fine when members have a city; members
without one are a warning (they would not receive the campaign), not a refusal.
Errors in the template itself still refuse the save, with their line.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns.models import Campaign
from campaigns.rendering import SAMPLE_SUBSCRIBER, TemplateValidationError, validate_templates
from campaigns.selectors import template_check_members, template_warnings
from campaigns.services import create_campaign, send_test
from subscribers.models import MailingList
from subscribers.services import create_subscriber
from tests.support.factories import make_list

pytestmark = pytest.mark.django_db

CITY_UPPER = "<p>Hello</p>\n<p>News from {{ subscriber.attributes.city.upper() }}</p>\n"


def _members(news: MailingList, cities: list[str | None]) -> None:
    for i, city in enumerate(cities):
        create_subscriber(
            email=f"m{i}@example.org",
            name=f"Member {i}",
            attributes={} if city is None else {"city": city},
            lists=[news],
        )


def _campaign(news: MailingList | None, html: str) -> Campaign:
    return create_campaign(
        name="City news",
        subject="News",
        from_email="news@example.com",
        html=html,
        lists=[news] if news else [],
        smtp_server=None,
    )


def test_an_attribute_every_member_has_is_accepted_without_warnings() -> None:
    news = make_list()
    _members(news, ["Lisbon", "Porto", "Faro"])
    campaign = _campaign(news, CITY_UPPER)
    assert template_warnings(campaign) == []


def test_members_without_the_attribute_are_counted_in_a_warning() -> None:
    news = make_list()
    _members(news, ["Lisbon", None, "Faro", None])
    campaign = _campaign(news, CITY_UPPER)
    [warning] = template_warnings(campaign)
    assert warning.startswith(
        "2 of 4 sampled members would not receive this campaign (html: line 2:"
    )
    assert "'dict object' has no attribute 'city'" in warning


def test_an_attribute_that_only_renders_empty_is_a_gentler_warning() -> None:
    news = make_list()
    _members(news, ["Lisbon", None, None])
    campaign = _campaign(news, "<p>From {{ subscriber.attributes.city }}</p>")
    assert template_warnings(campaign) == [
        "2 of 3 sampled members have no `city` attribute; for them it is empty."
    ]


def test_without_members_the_template_is_saved_with_a_warning() -> None:
    campaign = _campaign(None, CITY_UPPER)
    [warning] = template_warnings(campaign)
    assert "Not checked against real members" in warning
    assert "`city`" in warning


def test_a_template_that_fails_for_every_sampled_member_is_refused_with_its_line() -> None:
    news = make_list()
    _members(news, [None, None])
    with pytest.raises(TemplateValidationError) as caught:
        _campaign(news, CITY_UPPER)
    [problem] = caught.value.problems
    assert (problem.field, problem.line) == ("html", 2)
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    "html",
    [
        "<p>\n{{ subscriber.nmae.upper() }}</p>",  # a misspelt field, called
        "<p>\n{{ greet() }}</p>",  # an undefined function
        "<p>\n{{ subscriber.name | shout }}</p>",  # an unknown filter
    ],
)
def test_errors_in_the_template_itself_are_still_refused(html: str) -> None:
    news = make_list()
    _members(news, ["Lisbon"])
    with pytest.raises(TemplateValidationError) as caught:
        _campaign(news, html)
    assert caught.value.problems[0].line == 2


def test_the_check_reads_a_bounded_sample_in_one_query(
    django_assert_num_queries: Any,
) -> None:
    news = make_list()
    _members(news, [f"City {i}" for i in range(30)])
    with django_assert_num_queries(1):
        members = template_check_members([news])
    assert len(members) == 25
    assert members[0]["email"] == "m29@example.org"  # the newest first
    assert validate_templates(subject="s", html=CITY_UPPER, members=members) == []


def test_the_sample_subscriber_is_left_untouched_by_the_check() -> None:
    validate_templates(subject="s", html=CITY_UPPER)
    assert SAMPLE_SUBSCRIBER["attributes"] == {}


def test_a_test_send_to_a_stranger_is_refused_when_the_sample_cannot_render(
    smtp_server_row: Any,
) -> None:
    news = make_list()
    _members(news, ["Lisbon"])
    campaign = _campaign(news, CITY_UPPER)
    Campaign.objects.filter(pk=campaign.pk).update(smtp_server=smtp_server_row)
    campaign.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        send_test(campaign=campaign, emails=["boss@example.com"])
    [message] = caught.value.message_dict["emails"]
    assert message.startswith("boss@example.com would get the sample subscriber")
    # A member's address gets their own rendering, which works.
    assert send_test(campaign=campaign, emails=["m0@example.org"]) == ["m0@example.org"]


@pytest.fixture
def smtp_server_row() -> Any:
    from delivery.services import create_smtp_server

    return create_smtp_server(name="Relay", host="smtp.example.com", port=587)
