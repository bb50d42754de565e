"""Exporting a list's members as CSV: streamed, one column per attribute, safe in a spreadsheet."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from subscribers.models import MailingList, Subscriber, Subscription
from subscribers.selectors import export_list

pytestmark = pytest.mark.django_db


def exported(mailing_list: MailingList) -> list[list[str]]:
    return list(csv.reader(io.StringIO("".join(export_list(mailing_list)))))


def test_members_come_with_their_subscription_and_one_column_per_attribute() -> None:
    news = MailingList.objects.create(name="News")
    other = MailingList.objects.create(name="Other")
    ada = Subscriber.objects.create(
        email="ada@example.com", name="Ada", attributes={"city": "London", "age": 36}
    )
    bob = Subscriber.objects.create(email="bob@example.com", attributes={"vip": True})
    eve = Subscriber.objects.create(email="eve@example.com", attributes={"secret": "x"})
    Subscription.objects.create(subscriber=ada, mailing_list=news, status="confirmed")
    Subscription.objects.create(subscriber=bob, mailing_list=news, status="unsubscribed")
    Subscription.objects.create(subscriber=eve, mailing_list=other, status="confirmed")

    header, *rows = exported(news)
    assert header == [
        "email", "name", "status", "subscribed_at", "confirmed_at", "unsubscribed_at",
        "age", "city", "vip",
    ]  # fmt: skip
    assert [(row[0], row[1], row[2], row[6], row[7], row[8]) for row in rows] == [
        ("ada@example.com", "Ada", "confirmed", "36", "London", ""),
        ("bob@example.com", "", "unsubscribed", "", "", "true"),
    ]


def test_cells_a_spreadsheet_would_run_as_formulas_are_escaped() -> None:
    news = MailingList.objects.create(name="News")
    for number, name in enumerate(['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "Plain"]):
        subscriber = Subscriber.objects.create(
            email=f"p{number}@example.com", name=name, attributes={"note": name, "score": -5}
        )
        Subscription.objects.create(subscriber=subscriber, mailing_list=news)
    _, *rows = exported(news)
    assert [row[1] for row in rows] == [
        "'=HYPERLINK(\"http://x\")", "'+1", "'-2+3", "'@SUM(A1)", "Plain"
    ]  # fmt: skip
    assert [row[6] for row in rows] == [
        '\'=HYPERLINK("http://x")',
        "'+1",
        "'-2+3",
        "'@SUM(A1)",
        "Plain",
    ]
    # A number is a number, not text that starts with a minus.
    assert {row[7] for row in rows} == {"-5"}


def test_an_export_reads_the_same_queries_for_five_members_or_five_hundred() -> None:
    def queries_for(count: int) -> int:
        mailing_list = MailingList.objects.create(name=f"L{count}")
        people = Subscriber.objects.bulk_create(
            Subscriber(email=f"l{count}x{n}@example.com") for n in range(count)
        )
        Subscription.objects.bulk_create(
            Subscription(subscriber=person, mailing_list=mailing_list) for person in people
        )
        with CaptureQueriesContext(connection) as captured:
            assert len(exported(mailing_list)) == count + 1
        return len(captured)

    assert queries_for(5) == queries_for(500)
