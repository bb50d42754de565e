"""The blocklist: what an entry covers, and that sending, importing and
subscribing all honour it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from campaigns.services import start_campaign
from delivery.models import Delivery, SmtpServer
from subscribers import services as subscriber_services
from subscribers.blocklist import rules, selectors, services
from subscribers.imports import run
from subscribers.imports.services import create_import
from subscribers.models import BlocklistEntry, ImportProblem, MailingList, Subscriber
from tests.support.factories import add_audience, make_campaign, make_list

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("text", "kind", "covers", "spares"),
    [
        ("Spam@Example.com", "address", ["spam@example.com"], ["spam2@example.com"]),
        ("example.com", "domain", ["a@example.com"], ["a@sub.example.com", "a@example.community"]),
        ("@example.net", "domain", ["b@example.net"], ["b@example.org"]),
        ("*.example.org", "pattern", ["a@mx.example.org", "a@b.c.example.org"], ["a@example.org"]),
        ("info@*", "pattern", ["info@anything.test"], ["sales@anything.test"]),
        ("*@example.*", "pattern", ["x@example.de", "y@example.co.uk"], ["x@sample.de"]),
        ("under_score@*", "pattern", ["under_score@a.test"], ["underXscore@a.test"]),
    ],
)
def test_an_entry_covers_what_it_says_and_nothing_more(
    text: str, kind: str, covers: list[str], spares: list[str]
) -> None:
    services.add_entries(lines=[text])
    assert BlocklistEntry.objects.get().kind == kind
    for email in covers:
        assert selectors.blocking_entry(email) is not None, email
    for email in spares:
        assert selectors.blocking_entry(email) is None, email


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("*", "“*” would block every address."),
        ("*@*", "“*@*” would block every address."),
        ("not an address", "“not an address” is neither an address nor a domain."),
        (
            "a b@*",
            "“a b@*” is not a pattern: use letters, digits, dots, dashes, one @ and * for "
            "any characters.",
        ),
    ],
)
def test_an_entry_that_does_not_read_is_refused_by_line(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        services.add_entries(lines=["fine@example.com", text])
    assert caught.value.message_dict == {"entries.2": [message]}
    assert not BlocklistEntry.objects.exists()  # all or nothing


def test_adding_again_changes_nothing_and_says_so() -> None:
    first = services.add_entries(lines=["a@example.com", "example.net"])
    assert [e.value for e in first.created] == ["a@example.com", "example.net"]
    again = services.add_entries(lines=["A@example.com", "new.example"])
    assert [e.value for e in again.created] == ["new.example"]
    assert again.existing == ["a@example.com"]


def test_a_campaign_never_goes_to_a_blocked_address() -> None:
    news = make_list()
    people = add_audience(news, 4, domain="example.org")
    Subscriber.objects.filter(pk=people[3].pk).update(email="boss@corp.example")
    services.add_entries(lines=[people[0].email, "*.example", "reader1@*"])
    server = SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")
    campaign = make_campaign(lists=[news], server=server)
    start_campaign(campaign=campaign)
    assert list(
        Delivery.objects.filter(campaign=campaign).values_list("subscriber__email", flat=True)
    ) == [people[2].email]


def test_subscribing_a_blocked_address_is_refused_with_the_entry() -> None:
    services.add_entries(lines=["*.spam.test"])
    with pytest.raises(ValidationError) as caught:
        subscriber_services.create_subscriber(email="Bot@mx.spam.test")
    assert caught.value.message_dict == {
        "email": ["This address is blocked by the blocklist entry “*.spam.test”."]
    }
    existing = Subscriber.objects.create(email="late@example.com")
    services.add_entries(lines=["late@example.com"])
    with pytest.raises(ValidationError, match=r"This address is on the blocklist\."):
        subscriber_services.subscribe(subscriber=existing, lists=[make_list()])
    other = Subscriber.objects.create(email="ok@example.com")
    with pytest.raises(ValidationError) as caught:
        subscriber_services.update_subscriber(subscriber=other, email="x@mx.spam.test")
    assert caught.value.message_dict["email"] == [
        "This address is blocked by the blocklist entry “*.spam.test”."
    ]


def test_an_import_skips_blocked_rows_and_reports_them(settings: Any, tmp_path: Path) -> None:
    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path}
    services.add_entries(lines=["blocked.example", "ceo@*"])
    news = MailingList.objects.create(name="News")
    csv = b"email\nada@example.com\nx@blocked.example\nceo@corp.test\ngrace@example.com\n"
    import_run = create_import(source=io.BytesIO(csv), name="people.csv", lists=[news])
    run.run_import(import_run.pk)
    import_run.refresh_from_db()
    assert (import_run.imported, import_run.skipped) == (2, 2)
    assert list(ImportProblem.objects.order_by("row").values_list("row", "reason")) == [
        (3, "on the blocklist"),
        (4, "on the blocklist"),
    ]


def test_the_like_pattern_escapes_sql_wildcards() -> None:
    assert rules.parse("*.ex_ample.org").like_pattern == "%@%.ex\\_ample.org"
