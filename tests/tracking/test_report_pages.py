"""A campaign's report over time, by recipient domain, as CSV, and campaigns
compared side by side."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from bounces.models import BounceEvent
from campaigns.models import Campaign
from delivery.models import Delivery, DomainOutcome
from subscribers import consent, services
from subscribers.models import ConsentEvent, MailingList, Subscriber, Subscription
from tracking.models import CampaignHour, DomainStats
from tracking.selectors import campaign_report, timeline

pytestmark = pytest.mark.django_db


def sent_campaign(name: str, *, sent: int, opened: int, clicked: int) -> Campaign:
    """A campaign whose rollups say it sent ``sent`` messages to gmail.com."""
    campaign = Campaign.objects.create(
        name=name,
        subject="Hi",
        from_email="news@example.com",
        html="<p>Hi</p>",
        status=Campaign.Status.FINISHED,
        started_at=timezone.now() - timedelta(hours=5),
    )
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=4)
    for n in range(sent):
        person, _ = Subscriber.objects.get_or_create(email=f"p{n}@gmail.com")
        Delivery.objects.create(
            campaign=campaign, subscriber=person, status=Delivery.Status.SENT, sent_at=start
        )
    DomainOutcome.objects.create(campaign=campaign, domain="gmail.com", sent=sent)
    CampaignHour.objects.create(
        campaign=campaign,
        hour=start,
        opens=opened + 1,
        unique_opens=opened,
        machine_opens=2,
        clicks=clicked,
        unique_clicks=clicked,
    )
    DomainStats.objects.create(
        campaign=campaign, domain="gmail.com", unique_opens=opened, unique_clicks=clicked
    )
    return campaign


def hour(campaign: Campaign, at: datetime, opens: int) -> CampaignHour:
    return CampaignHour.objects.create(campaign=campaign, hour=at, opens=opens, unique_opens=opens)


def test_a_fresh_campaign_is_drawn_by_the_hour_up_to_now_and_an_older_one_by_the_day() -> None:
    campaign = sent_campaign("Spring", sent=1, opened=0, clicked=0)
    CampaignHour.objects.all().delete()
    now = datetime(2026, 12, 3, 15, 20, tzinfo=UTC)
    hour(campaign, datetime(2026, 12, 3, 9, tzinfo=UTC), 5)
    hour(campaign, datetime(2026, 12, 3, 11, tzinfo=UTC), 2)

    fresh = timeline(list(CampaignHour.objects.order_by("hour")), now=now)
    assert fresh.step == "hour"
    # 09:00 to 15:00, the empty hours included, so the fall-off shows.
    assert [(row.start.hour, row.opens) for row in fresh.rows] == [
        (9, 5), (10, 0), (11, 2), (12, 0), (13, 0), (14, 0), (15, 0),
    ]  # fmt: skip

    hour(campaign, datetime(2026, 12, 7, 8, tzinfo=UTC), 1)  # four days on
    older = timeline(list(CampaignHour.objects.order_by("hour")), now=now)
    assert older.step == "day"
    assert [(row.start.day, row.opens) for row in older.rows] == [
        (3, 7),
        (4, 0),
        (5, 0),
        (6, 0),
        (7, 1),
    ]


def test_the_domain_table_gives_delivery_bounce_open_and_click_rates(
    teammate_client: Client,
) -> None:
    campaign = sent_campaign("Spring", sent=8, opened=3, clicked=1)
    DomainOutcome.objects.create(campaign=campaign, domain="web.de", sent=2, failed=2)
    BounceEvent.objects.create(
        kind=BounceEvent.Kind.HARD, source="dsn", email="p7@gmail.com", campaign=campaign
    )
    BounceEvent.objects.create(
        kind=BounceEvent.Kind.SOFT, source="dsn", email="x@WEB.de", campaign=campaign
    )

    gmail, web = campaign_report(campaign).domains
    assert (gmail.domain, gmail.sent, gmail.delivered, gmail.hard_bounces) == ("gmail.com", 8, 7, 1)
    assert (gmail.open_rate, gmail.click_rate) == (3 / 7, 1 / 7)
    assert (web.domain, web.delivered, web.soft_bounces, web.bounce_rate) == ("web.de", 1, 1, 0.5)
    assert web.delivered_rate == 1 / 4  # two refused while sending, one bounced

    page = teammate_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    row = page.split('data-domain="gmail.com"')[1].split("</tr>")[0]
    assert "87.5%" in row.split('data-col="delivered"')[1]  # 7 of 8
    assert "42.9%" in row.split('data-col="opened"')[1]  # 3 of 7 delivered
    assert "+2 refused" in page.split('data-domain="web.de"')[1].split("</tr>")[0]


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_the_report_exports_as_csv_in_sections(teammate_client: Client) -> None:
    campaign = sent_campaign("=HYPERLINK(1)", sent=4, opened=2, clicked=1)

    response = teammate_client.get(f"/campaigns/{campaign.pk}/report.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"report-{campaign.pk}-hyperlink-1.csv" in response["Content-Disposition"]
    rows = read_csv(response.content)
    assert rows[0] == ["Campaign", "'=HYPERLINK(1)"]  # shown as text, never run
    figures = {row[0]: row[1:] for row in rows if len(row) == 3}
    assert figures["Sent"] == ["4", ""]
    assert figures["People who opened"] == ["2", "50.00"]
    assert figures["Opens by machines"] == ["2", ""]
    domains = rows[rows.index(next(r for r in rows if r[:1] == ["Recipient domain"])) + 1]
    assert domains[:4] == ["gmail.com", "4", "4", "100.00"]
    timeline_head = next(r for r in rows if r[:1] == ["Hour from (UTC)"])
    first_hour = rows[rows.index(timeline_head) + 1]
    assert first_hour[1:3] == ["3", "1"]


def test_campaigns_compare_side_by_side_and_as_csv(teammate_client: Client) -> None:
    spring = sent_campaign("Spring", sent=4, opened=2, clicked=1)
    summer = sent_campaign("Summer", sent=5, opened=1, clicked=0)

    page = teammate_client.get(f"/campaigns/compare/?id={spring.pk}&id={summer.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    opened = html.split('data-figure="opened"')[1].split("</tr>")[0]
    assert "50.0%" in opened and "20.0%" in opened
    assert opened.index("50.0%") < opened.index("20.0%")  # in the order asked for
    # The chart's caption gives each campaign's rates, never a sum of them.
    assert "Spring: 50% opened, 25% clicked; Summer: 20% opened, 0% clicked" in html

    exported = teammate_client.get(f"/campaigns/compare/?id={spring.pk}&id={summer.pk}&format=csv")
    rows = read_csv(exported.content)
    assert rows[0] == ["Figure", "Spring", "Summer"]
    assert ["People who opened (%)", "50.00", "20.00"] in rows


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("id=abc", "Campaigns are chosen by their number."),
        ("id=1&id=2&id=3&id=4&id=5&id=6&id=7", "Compare at most 6 campaigns at once."),
        ("id=999999&id=999998", "Some of the campaigns asked for do not exist"),
        ("id={spring}", "Choose at least two campaigns to compare."),
    ],
)
def test_a_comparison_that_cannot_be_made_says_why(
    teammate_client: Client, query: str, message: str
) -> None:
    spring = sent_campaign("Spring", sent=1, opened=0, clicked=0)
    response = teammate_client.get(f"/campaigns/compare/?{query.format(spring=spring.pk)}")
    assert response.status_code == 400
    assert message in response.content.decode()


def test_the_compare_page_offers_campaigns_that_have_started(teammate_client: Client) -> None:
    sent_campaign("Spring", sent=1, opened=0, clicked=0)
    Campaign.objects.create(name="Draft", subject="Hi", from_email="n@example.com", html="x")
    html = teammate_client.get("/campaigns/compare/").content.decode()
    assert "Spring" in html and "Draft" not in html


def test_reports_are_for_the_team_only(outsider_client: Client, client: Client) -> None:
    campaign = sent_campaign("Spring", sent=1, opened=0, clicked=0)
    for url in (f"/campaigns/{campaign.pk}/report.csv", "/campaigns/compare/"):
        assert outsider_client.get(url).status_code == 403
        assert client.get(url).status_code == 302  # to the login page


def test_the_report_gives_the_reasons_people_unsubscribed_for(teammate_client: Client) -> None:
    campaign = sent_campaign("Spring", sent=3, opened=0, clicked=0)
    through_the_campaign = consent.Origin(via=ConsentEvent.Via.LINK).through_campaign(campaign.pk)
    news = MailingList.objects.create(name="News")
    for n, reason in enumerate(["too_many", "too_many", ""]):
        subscriber = Subscriber.objects.get(email=f"p{n}@gmail.com")
        Subscription.objects.create(
            subscriber=subscriber, mailing_list=news, status=Subscription.Status.CONFIRMED
        )
        services.unsubscribe(
            subscriber_id=subscriber.pk,
            origin=through_the_campaign,
            given=consent.GivenReason(code=reason),
        )

    page = teammate_client.get(f"/campaigns/{campaign.pk}/").content.decode()
    assert 'data-testid="unsubscribed">3<' in page
    reasons = page.split('data-role="reasons"')[1].split("</table>")[0]
    assert reasons.index("Too many emails") < reasons.index("No reason given")
    assert '<tr data-reason="too_many"><td>Too many emails</td><td class="num">2</td>' in reasons
    rows = read_csv(teammate_client.get(f"/campaigns/{campaign.pk}/report.csv").content)
    assert ["Too many emails", "2"] in rows and ["No reason given", "1"] in rows
