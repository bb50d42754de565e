"""A small audience and segment definitions with the people each must match.

Imported by the PostgreSQL tests and run as a script under SQLite (``python
tests/subscribers/segment_cases.py`` after ``migrate``), so both databases are
held to the same answers.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from typing import Any

PEOPLE: list[dict[str, Any]] = [
    {
        "email": "ada@example.com",
        "name": "Ada Lovelace",
        "attributes": {"city": "London", "age": 36, "plan": "pro", "tags": ["math", "poetry"]},
    },
    {
        "email": "bob@shop.example.org",
        "name": "Bob",
        "attributes": {"city": "Berlin", "age": 52, "plan": "free", "vip": True},
    },
    {
        "email": "cleo@example.com",
        "name": "",
        "attributes": {"city": "berlin", "age": "41", "joined": "2024-05-01"},
    },
    {
        "email": "dan_x@mail.test",
        "name": "Dan 100%",
        "attributes": {"city": None, "plan": "", "joined": "2021-01-15", "vip": False},
    },
    {"email": "eve@example.com", "name": "Eve", "attributes": {}},
]
# Who is on which list ("news", "promo"), with what status.
MEMBERSHIPS = [
    ("ada@example.com", "news", "confirmed"),
    ("bob@shop.example.org", "news", "unconfirmed"),
    ("bob@shop.example.org", "promo", "confirmed"),
    ("cleo@example.com", "promo", "unsubscribed"),
    ("dan_x@mail.test", "news", "unsubscribed"),
]
EVERYONE = {p["email"] for p in PEOPLE}


def cond(field: str, op: str, value: Any = None, **extra: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"field": field, "op": op, **extra}
    if value is not None:
        found["value"] = value
    return found


def cases(list_ids: dict[str, int]) -> list[tuple[str, dict[str, Any], set[str]]]:
    """(label, definition, emails it matches)."""
    news, promo = list_ids["news"], list_ids["promo"]
    one = lambda *conditions, match="all": {"match": match, "conditions": list(conditions)}  # noqa: E731
    return [
        ("email eq", one(cond("email", "eq", "ADA@example.com")), {"ada@example.com"}),
        ("email contains", one(cond("email", "contains", "_x")), {"dan_x@mail.test"}),
        ("email in", one(cond("email", "in", ["eve@example.com", "x@y.z"])), {"eve@example.com"}),
        (
            "domain eq",
            one(cond("domain", "eq", "@Example.com")),
            {"ada@example.com", "cleo@example.com", "eve@example.com"},
        ),
        (
            "domain not_in",
            one(cond("domain", "not_in", ["example.com", "mail.test"])),
            {"bob@shop.example.org"},
        ),
        (
            "domain contains",
            one(cond("domain", "contains", "example.")),
            {"ada@example.com", "bob@shop.example.org", "cleo@example.com", "eve@example.com"},
        ),
        (
            "name contains, LIKE characters are text",
            one(cond("name", "contains", "100%")),
            {"dan_x@mail.test"},
        ),
        ("name contains ignores case", one(cond("name", "contains", "LOVE")), {"ada@example.com"}),
        ("name set false", one(cond("name", "set", False)), {"cleo@example.com"}),
        (
            "attribute eq is exact text",
            one(cond("attributes.city", "eq", "Berlin")),
            {"bob@shop.example.org"},
        ),
        (
            "attribute neq keeps those without it",
            one(cond("attributes.city", "neq", "Berlin")),
            EVERYONE - {"bob@shop.example.org"},
        ),
        (
            "attribute eq number matches number and text",
            one(cond("attributes.age", "eq", 41)),
            {"cleo@example.com"},
        ),
        (
            "attribute eq numeric text matches a number",
            one(cond("attributes.age", "eq", "36")),
            {"ada@example.com"},
        ),
        ("attribute eq boolean", one(cond("attributes.vip", "eq", True)), {"bob@shop.example.org"}),
        ("attribute eq false", one(cond("attributes.vip", "eq", False)), {"dan_x@mail.test"}),
        (
            "attribute gt number ignores text",
            one(cond("attributes.age", "gt", 40)),
            {"bob@shop.example.org"},
        ),
        ("attribute lt number", one(cond("attributes.age", "lt", 40)), {"ada@example.com"}),
        (
            "attribute gt text compares dates",
            one(cond("attributes.joined", "gt", "2022-01-01")),
            {"cleo@example.com"},
        ),
        (
            "attribute contains in an array",
            one(cond("attributes.tags", "contains", "poetry")),
            {"ada@example.com"},
        ),
        (
            "attribute contains in text",
            one(cond("attributes.city", "contains", "ERL")),
            {"bob@shop.example.org", "cleo@example.com"},
        ),
        (
            "attribute in",
            one(cond("attributes.plan", "in", ["pro", "free"])),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        (
            "attribute not_in",
            one(cond("attributes.plan", "not_in", ["pro"])),
            EVERYONE - {"ada@example.com"},
        ),
        (
            "attribute set: null and empty are not",
            one(cond("attributes.plan", "set")),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        (
            "attribute set false",
            one(cond("attributes.city", "set", False)),
            {"dan_x@mail.test", "eve@example.com"},
        ),
        (
            "list eq counts unconfirmed, not unsubscribed",
            one(cond("list", "eq", news)),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        (
            "list with status",
            one(cond("list", "in", [news, promo], status="confirmed")),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        (
            "list neq",
            one(cond("list", "neq", news)),
            {"cleo@example.com", "dan_x@mail.test", "eve@example.com"},
        ),
        (
            "status unsubscribed anywhere",
            one(cond("status", "eq", "unsubscribed")),
            {"cleo@example.com", "dan_x@mail.test"},
        ),
        (
            "status on one list",
            one(cond("status", "eq", "unsubscribed", list=[promo])),
            {"cleo@example.com"},
        ),
        (
            "subscribed in the last days",
            one(cond("subscribed_at", "gt", 7)),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        ("subscribed before a date", one(cond("subscribed_at", "lt", "2000-01-01")), set()),
        ("created after a date", one(cond("created_at", "gt", "2000-01-01")), EVERYONE),
        ("received nothing lately", one(cond("received", "not_in_last_days", 30)), EVERYONE),
        ("opened lately", one(cond("opened", "in_last_days", 30)), {"ada@example.com"}),
        (
            "opened within a year",
            one(cond("opened", "in_last_days", 365)),
            {"ada@example.com", "bob@shop.example.org"},
        ),
        (
            "opened nothing lately (a proxy's opens are no one's)",
            one(cond("opened", "not_in_last_days", 30)),
            EVERYONE - {"ada@example.com"},
        ),
        ("clicked lately", one(cond("clicked", "in_last_days", 30)), {"ada@example.com"}),
        (
            "any of two",
            one(
                cond("attributes.city", "eq", "London"),
                cond("domain", "eq", "mail.test"),
                match="any",
            ),
            {"ada@example.com", "dan_x@mail.test"},
        ),
        (
            "nested groups",
            one(
                cond("domain", "eq", "example.com"),
                {
                    "match": "any",
                    "conditions": [cond("attributes.age", "gt", 30), cond("name", "eq", "eve")],
                },
            ),
            {"ada@example.com", "eve@example.com"},
        ),
    ]


def populate() -> dict[str, int]:
    from django.utils import timezone

    from campaigns.models import Campaign
    from subscribers.models import MailingList, Subscriber, Subscription
    from tracking.models import Engagement

    lists = {name: MailingList.objects.create(name=name) for name in ("news", "promo")}
    people = {p["email"]: Subscriber.objects.create(**p) for p in PEOPLE}
    for email, list_name, status in MEMBERSHIPS:
        Subscription.objects.create(
            subscriber=people[email], mailing_list=lists[list_name], status=status
        )
    # Unsubscribed long ago: the date conditions must not see them as recent.
    Subscription.objects.filter(status="unsubscribed").update(
        created_at=timezone.now() - timedelta(days=400)
    )
    # Ada opened and clicked two days ago, Bob opened two months ago; Cleo's
    # opens were all a mail proxy's.
    campaign = Campaign.objects.create(name="c", subject="s", from_email="a@b.c", html="h")
    now = timezone.now()
    for email, opened, clicked in (
        ("ada@example.com", now - timedelta(days=2), now - timedelta(days=2)),
        ("bob@shop.example.org", now - timedelta(days=60), None),
    ):
        Engagement.objects.create(
            campaign=campaign,
            subscriber=people[email],
            opens=1,
            first_opened_at=opened,
            last_opened_at=opened,
            clicks=1 if clicked else 0,
            first_clicked_at=clicked,
            last_clicked_at=clicked,
        )
    Engagement.objects.create(
        campaign=campaign, subscriber=people["cleo@example.com"], machine_opens=3
    )
    return {name: m.pk for name, m in lists.items()}


def evaluate(list_ids: dict[str, int]) -> dict[str, list[str]]:
    from subscribers.segments import definition, selectors

    found = {}
    for label, raw, _ in cases(list_ids):
        group = definition.parse(raw)
        emails = sorted(selectors.matching(group).values_list("email", flat=True))
        assert selectors.count_group(group) == len(emails), label
        found[label] = emails
    return found


if __name__ == "__main__":
    # Run by the SQLite test, in a fresh database of its own.
    sys.path.insert(0, os.getcwd())
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")
    import django

    django.setup()
    print(json.dumps(evaluate(populate())))
