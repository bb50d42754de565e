"""The consent ledger: every way a subscription starts, is confirmed, ends or
changes leaves a row saying when, how, by whom and from where."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from api.services import create_token
from subscribers.models import ConsentEvent, MailingList, Subscriber, Subscription
from subscribers.tokens import Purpose, make_confirm_token, make_token
from tests.api.client import ApiClient

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Test"


def ledger(subscriber: Subscriber) -> list[tuple[str, str, str, str]]:
    return [
        (e.kind, e.via, e.mailing_list.name if e.mailing_list else "", e.actor_name)
        for e in ConsentEvent.objects.filter(subscriber=subscriber)
        .select_related("mailing_list")
        .order_by("created_at", "id")
    ]


def test_staff_changes_are_recorded_with_who_made_them(
    teammate_client: Client, teammate: User
) -> None:
    news = MailingList.objects.create(name="News")
    double = MailingList.objects.create(name="Double", optin="double")
    teammate_client.post(
        reverse("subscribers:create"),
        {"email": "ada@example.com", "name": "Ada", "lists": [news.pk, double.pk]},
    )
    ada = Subscriber.objects.get()
    pending = Subscription.objects.get(mailing_list=double)
    teammate_client.post(reverse("subscribers:subscription_confirm", args=[ada.pk, pending.pk]))
    teammate_client.post(
        reverse("subscribers:edit", args=[ada.pk]),
        {
            "email": "ada@example.com",
            "name": "Ada L.",
            "status": "blocklisted",
            "lists": [double.pk],
            "attributes": "",
        },
    )
    name = teammate.get_username()
    assert ledger(ada) == [
        ("subscribed", "admin", "Double", name),  # the form's lists come by name
        ("subscribed", "admin", "News", name),
        ("confirmed", "admin", "Double", name),
        ("changed", "admin", "", name),
        ("blocklisted", "admin", "", name),
        ("unsubscribed", "admin", "News", name),
    ]
    page = teammate_client.get(reverse("subscribers:detail", args=[ada.pk])).text
    assert 'id="consent-history"' in page
    assert "Changed name" in page


def test_links_record_the_visitor_and_the_api_its_token_owner(db: None, owner: User) -> None:
    news = MailingList.objects.create(name="News", optin="double")
    api = ApiClient(create_token(user=owner))
    answer = api.post("/subscribers", {"email": "bob@example.com", "lists": [news.pk]})
    bob = Subscriber.objects.get(pk=answer.json()["id"])
    subscription = Subscription.objects.get()

    visitor = Client(HTTP_USER_AGENT=BROWSER, REMOTE_ADDR="203.0.113.9")
    confirm = reverse("public:confirm", args=[make_confirm_token(subscription.pk)])
    visitor.get(confirm)
    visitor.post(confirm)
    one_click = reverse(
        "public:one_click", args=[make_token(Purpose.UNSUBSCRIBE, subscriber_id=bob.pk)]
    )
    visitor.post(one_click, {"List-Unsubscribe": "One-Click"})

    assert ledger(bob) == [
        ("subscribed", "api", "News", owner.get_username()),
        ("confirmed", "link", "News", ""),
        ("unsubscribed", "link", "News", ""),
    ]
    confirmed, unsubscribed = ConsentEvent.objects.filter(
        kind__in=["confirmed", "unsubscribed"]
    ).order_by("id")
    assert (confirmed.ip, confirmed.user_agent) == ("203.0.113.9", BROWSER)
    assert unsubscribed.note == "One-click (RFC 8058)"
