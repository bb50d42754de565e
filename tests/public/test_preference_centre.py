"""The preference centre beyond leaving lists: joining public lists, a reason
to go, one's data as JSON, and erasure that leaves only a hash."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from bounces.models import BounceEvent, Suppression
from subscribers import consent, privacy, services
from subscribers.imports import run
from subscribers.imports.services import create_import
from subscribers.models import (
    ConsentEvent,
    ErasedAddress,
    ImportProblem,
    MailingList,
    Subscriber,
    Subscription,
)
from subscribers.signup import services as signup_services
from subscribers.tokens import Purpose, make_token
from tests.public.helpers import ORIGIN, active_lists
from tests.public.test_preferences import csrf_token


def url(name: str, subscriber: Subscriber) -> str:
    return reverse(name, args=[make_token(Purpose.PREFERENCES, subscriber_id=subscriber.pk)])


def test_public_lists_can_be_joined_and_others_not(
    browser: Client, alice: Subscriber, newsletter: MailingList
) -> None:
    podcast = MailingList.objects.create(name="Podcast", public=True, optin="double")
    MailingList.objects.create(name="Staff only")
    page = url("public:preferences", alice)
    text = browser.get(page, secure=True).content.decode()
    assert "Podcast" in text and "Staff only" not in text
    token = csrf_token(browser, page)
    keep = [m.pk for m in MailingList.objects.filter(name__in=["Newsletter", "Podcast"])]
    browser.post(
        page,
        {"csrfmiddlewaretoken": token, "name": "Alice", "lists": keep, "save": "1"},
        secure=True,
        headers=ORIGIN,
    )
    assert active_lists(alice) == {"Newsletter", "Podcast"}
    joined = Subscription.objects.get(mailing_list=podcast)
    assert joined.status == "confirmed"  # the signed link proved the address
    event = ConsentEvent.objects.get(mailing_list=podcast)
    assert (event.kind, event.via, event.note) == (
        "subscribed",
        "link",
        "Joined from the preference centre",
    )


def test_unsubscribing_from_everything_keeps_the_reason(browser: Client, alice: Subscriber) -> None:
    page = url("public:preferences", alice)
    browser.post(
        page,
        {
            "csrfmiddlewaretoken": csrf_token(browser, page),
            "unsubscribe_all": "1",
            "reason": "too_many",
            "reason_text": "Weekly would do",
        },
        secure=True,
        headers=ORIGIN,
    )
    assert active_lists(alice) == set()
    reasons = set(
        ConsentEvent.objects.filter(kind="unsubscribed").values_list(
            "reason", "reason_text", "note"
        )
    )
    assert reasons == {("too_many", "Weekly would do", "")}


def test_the_data_download_holds_everything_about_them(browser: Client, alice: Subscriber) -> None:
    Subscriber.objects.filter(pk=alice.pk).update(attributes={"city": "Lisbon"})
    services.unsubscribe(
        subscriber_id=alice.pk, list_ids=[MailingList.objects.get(name="Events").pk]
    )
    response = browser.get(url("public:my_data", alice), secure=True)
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    data = json.loads(response.content)
    assert data["subscriber"]["email"] == "alice@example.com"
    assert data["subscriber"]["attributes"] == {"city": "Lisbon"}
    assert {s["list"]: s["status"] for s in data["subscriptions"]} == {
        "Events": "unsubscribed",
        "Newsletter": "confirmed",
        "Offers": "confirmed",
    }
    assert [e["what"] for e in data["consent_history"]][-1] == "unsubscribed"
    assert set(data) >= {"messages", "bounces_and_complaints", "suppressions"}


def test_erasure_leaves_a_hash_and_the_address_never_comes_back(
    browser: Client, alice: Subscriber, newsletter: MailingList, settings: Any, tmp_path: Path
) -> None:
    BounceEvent.objects.create(kind="soft", source="smtp", email=alice.email, diagnostic="full")
    Suppression.objects.create(email=alice.email, reason="complaint")
    page = url("public:erase", alice)
    refused = browser.post(
        page, {"csrfmiddlewaretoken": csrf_token(browser, page)}, secure=True, headers=ORIGIN
    )
    assert refused.status_code == 400  # the box was not ticked
    done = browser.post(
        page,
        {"csrfmiddlewaretoken": csrf_token(browser, page), "sure": "on"},
        secure=True,
        headers=ORIGIN,
    )
    assert "You have been erased" in done.content.decode()
    assert not Subscriber.objects.exists()
    assert not Suppression.objects.exists()
    assert BounceEvent.objects.get().email == ""
    assert list(ErasedAddress.objects.values_list("email_hash", "via")) == [
        (privacy.address_hash("alice@example.com"), "link")
    ]
    assert browser.get(url("public:preferences", alice), secure=True).status_code == 404

    with pytest.raises(ValidationError) as caught:
        services.create_subscriber(email="Alice@example.com")
    assert caught.value.message_dict == {"email": [services.ERASED_MESSAGE]}
    other = Subscriber.objects.create(email="carol@example.com")
    with pytest.raises(ValidationError) as caught:
        services.update_subscriber(subscriber=other, email="alice@example.com")
    assert caught.value.message_dict == {"email": [services.ERASED_MESSAGE]}
    other.delete()

    settings.POSTINO = {**settings.POSTINO, "IMPORT_DIR": tmp_path}
    source = io.BytesIO(b"email\nalice@example.com\nbob@example.com\n")
    imported = create_import(source=source, name="back.csv", lists=[newsletter])
    run.run_import(imported.pk)
    assert list(ImportProblem.objects.values_list("row", "reason")) == [
        (2, "erased at their request")
    ]
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["bob@example.com"]

    form = signup_services.create_form(
        signup_services.FormFields(
            name="F", slug="f", title="F", consent_text="Yes", lists=[newsletter]
        )
    )
    signup_services.submit(form=form, email="alice@example.com", origin=consent.Origin(via="form"))
    assert not Subscriber.objects.filter(email="alice@example.com").exists()
