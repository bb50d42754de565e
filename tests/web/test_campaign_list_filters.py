"""The campaign list: tag chips and ?tag=, search by name or subject with ?q=,
each row's tags, keyset pages that keep the filters, and no query per row."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign, Tag
from campaigns.services import create_campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList

pytestmark = pytest.mark.django_db


def _campaign(
    newsletter: MailingList, server: SmtpServer, name: str, subject: str, tags: tuple[str, ...] = ()
) -> Campaign:
    campaign = create_campaign(
        name=name,
        subject=subject,
        from_email="News <news@example.com>",
        html="<p>Hi</p>",
        lists=[newsletter],
        smtp_server=server,
    )
    campaign.tags.set([Tag.objects.get_or_create(name=tag)[0] for tag in tags])
    return campaign


def _names(response: Any) -> list[str]:
    return [campaign.name for campaign in response.context["page"].items]


@pytest.fixture
def three(newsletter: MailingList, smtp_server: SmtpServer) -> None:
    _campaign(newsletter, smtp_server, "Spring promo", "Half price", ("promo", "2027"))
    _campaign(newsletter, smtp_server, "Monthly letter", "Our SPRING garden", ("2027",))
    _campaign(newsletter, smtp_server, "Winter promo", "Warm socks", ("promo",))


def test_filtering_by_tag(teammate_client: Client, three: None) -> None:
    response = teammate_client.get(reverse("campaigns:index"), {"tag": "promo"})
    assert _names(response) == ["Winter promo", "Spring promo"]
    page = response.content.decode()
    assert 'class="tag tag-active" href="?tag=promo" aria-current="true">promo</a>' in page


def test_searching_name_or_subject_ignoring_case(teammate_client: Client, three: None) -> None:
    response = teammate_client.get(reverse("campaigns:index"), {"q": "spring"})
    assert _names(response) == ["Monthly letter", "Spring promo"]


def test_search_and_tag_together(teammate_client: Client, three: None) -> None:
    response = teammate_client.get(reverse("campaigns:index"), {"q": "spring", "tag": "promo"})
    assert _names(response) == ["Spring promo"]


def test_nothing_matching_says_so(teammate_client: Client, three: None) -> None:
    response = teammate_client.get(reverse("campaigns:index"), {"q": "zebra"})
    assert "has “zebra” in its name or subject" in response.content.decode()


def test_each_row_shows_its_tags(teammate_client: Client, three: None) -> None:
    page = teammate_client.get(reverse("campaigns:index")).content.decode()
    assert page.count('data-role="campaign-tags"') == 3
    assert '<a class="tag tag-small" href="?tag=2027">2027</a>' in page


def test_pages_keep_the_filters(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer, monkeypatch: Any
) -> None:
    monkeypatch.setattr("campaigns.views.PAGE_SIZE", 2)
    for i in range(5):
        _campaign(newsletter, smtp_server, f"Promo {i}", "Sale", ("promo",))
    _campaign(newsletter, smtp_server, "Other promo", "Sale")
    seen: list[str] = []
    params: dict[str, str] = {"tag": "promo", "q": "promo"}
    while True:
        response = teammate_client.get(reverse("campaigns:index"), params)
        seen += _names(response)
        key = response.context["page"].next_key
        if key is None:
            break
        assert f"?tag=promo&amp;q=promo&amp;before={key}" in response.content.decode()
        params = {**params, "before": str(key)}
    assert seen == [f"Promo {i}" for i in reversed(range(5))]


@pytest.mark.parametrize("rows", [1, 12])
def test_the_list_costs_the_same_queries_whatever_its_length(
    teammate_client: Client,
    newsletter: MailingList,
    smtp_server: SmtpServer,
    django_assert_num_queries: Any,
    rows: int,
) -> None:
    for i in range(rows):
        _campaign(newsletter, smtp_server, f"Issue {i}", "News", ("promo", f"t{i % 3}"))
    teammate_client.get(reverse("campaigns:index"))  # warm the session and user lookups
    # session, user, campaigns, their lists, their tags, the tag chips
    with django_assert_num_queries(6):
        response = teammate_client.get(reverse("campaigns:index"), {"tag": "promo", "q": "iss"})
    assert len(_names(response)) == rows
