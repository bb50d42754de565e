"""Public signup forms: who gets subscribed, the spam checks, the consent
record, and the staff pages that make them."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from bounces.models import Suppression
from postino import jobs
from subscribers.blocklist.services import add_entries
from subscribers.models import (
    ConsentEvent,
    ConsentText,
    MailingList,
    SignupForm,
    Subscriber,
    Subscription,
)
from subscribers.signup import challenge, services
from tests.support.jobs import QueuedJobs

pytestmark = pytest.mark.usefixtures("clean_redis")

CONSENT = "I agree to receive the weekly newsletter. I can unsubscribe at any time."


@pytest.fixture
def lists(db: None) -> dict[str, MailingList]:
    return {
        "weekly": MailingList.objects.create(name="Weekly", optin="double"),
        "offers": MailingList.objects.create(name="Offers"),
    }


@pytest.fixture
def signup(lists: dict[str, MailingList]) -> SignupForm:
    return services.create_form(
        services.FormFields(
            name="Website footer",
            slug="news",
            title="Get our news",
            consent_text=CONSENT,
            lists=list(lists.values()),
        )
    )


def solved(settings: Any) -> str:
    return challenge.solve(challenge.new_challenge(maximum=500))


def post(client: Client, signup: SignupForm, data: dict[str, Any], **extra: Any) -> Any:
    return client.post(reverse("public:signup", args=[signup.slug]), data, **extra)


def test_a_visitor_subscribes_with_their_consent_recorded(
    signup: SignupForm,
    lists: dict[str, MailingList],
    settings: Any,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    visitor = Client(HTTP_USER_AGENT="Firefox/140", REMOTE_ADDR="198.51.100.7")
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            visitor,
            signup,
            {
                "email": "Ann@Example.com",
                "name": "Ann",
                "altcha": solved(settings),
                "lists": [lists["weekly"].pk, lists["offers"].pk],
            },
        )
    assert response.status_code == 200
    assert "Check your inbox" in response.text
    ann = Subscriber.objects.get(email="ann@example.com")
    assert ann.name == "Ann"
    assert dict(ann.subscriptions.values_list("mailing_list__name", "status")) == {
        "Weekly": "unconfirmed",
        "Offers": "confirmed",
    }
    assert len(queued_jobs.of(jobs.SEND_CONFIRMATIONS)) == 1
    events = ConsentEvent.objects.filter(subscriber=ann).order_by("id")
    assert [(e.kind, e.via, e.consent_text_version, e.ip, e.user_agent) for e in events] == [
        ("subscribed", "form", "news v1", "198.51.100.7", "Firefox/140"),
        ("subscribed", "form", "news v1", "198.51.100.7", "Firefox/140"),
    ]
    assert events[0].note == "Form “Website footer”"


def test_submitting_again_never_unconfirms_and_asks_again_where_waiting(
    signup: SignupForm,
    lists: dict[str, MailingList],
    settings: Any,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    ann = Subscriber.objects.create(email="ann@example.com", name="Ann")
    weekly = Subscription.objects.create(
        subscriber=ann, mailing_list=lists["weekly"], status="confirmed"
    )
    offers = Subscription.objects.create(
        subscriber=ann, mailing_list=lists["offers"], status="unsubscribed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        post(
            Client(),
            signup,
            {
                "email": "ann@example.com",
                "name": "Someone else",
                "altcha": solved(settings),
                "lists": [lists["weekly"].pk, lists["offers"].pk],
            },
        )
    weekly.refresh_from_db()
    offers.refresh_from_db()
    assert weekly.status == "confirmed"  # untouched
    assert offers.status == "confirmed"  # asked again on a single opt-in list
    assert Subscriber.objects.get().name == "Ann"  # a form never renames anyone

    pending = Subscriber.objects.create(email="bob@example.com")
    waiting = Subscription.objects.create(subscriber=pending, mailing_list=lists["weekly"])
    queued_jobs.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post(
            Client(),
            signup,
            {"email": "bob@example.com", "altcha": solved(settings), "lists": [lists["weekly"].pk]},
        )
    assert queued_jobs.of(jobs.SEND_CONFIRMATIONS) == [([waiting.pk],)]


def test_blocked_and_suppressed_addresses_look_accepted_but_change_nothing(
    signup: SignupForm, lists: dict[str, MailingList], settings: Any
) -> None:
    add_entries(lines=["spam.test"])
    Suppression.objects.create(email="gone@example.com", reason="hard_bounce")
    for email in ("x@spam.test", "gone@example.com"):
        response = post(
            Client(),
            signup,
            {"email": email, "altcha": solved(settings), "lists": [lists["offers"].pk]},
        )
        assert "You're subscribed" in response.text
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"email": "not-an-address"}, 400, "Enter a valid email address."),
        ({"email": "a@example.com", "lists": []}, 400, "Choose at least one list."),
        (
            {"email": "a@example.com", "altcha": ""},
            400,
            "Please try again: the spam check did not run (is JavaScript on?).",
        ),
    ],
)
def test_bad_submissions_say_what_is_wrong(
    signup: SignupForm,
    lists: dict[str, MailingList],
    settings: Any,
    data: dict[str, Any],
    status: int,
    message: str,
) -> None:
    body = {"lists": [lists["offers"].pk], "altcha": solved(settings), **data}
    response = post(Client(), signup, body)
    assert response.status_code == status
    assert message in response.text
    assert not Subscriber.objects.exists()


def test_a_challenge_answers_once_and_only_if_ours(
    settings: Any, db: None, clean_redis: None
) -> None:
    answer = solved(settings)
    challenge.verify(answer)
    with pytest.raises(challenge.ChallengeFailed, match="already sent"):
        challenge.verify(answer)
    forged = json.loads(base64.b64decode(solved(settings)))
    forged["signature"] = "0" * 64
    with pytest.raises(challenge.ChallengeFailed, match="not one of ours"):
        challenge.verify(base64.b64encode(json.dumps(forged).encode()).decode())
    old = challenge.solve(challenge.new_challenge(maximum=50, now=0))
    with pytest.raises(challenge.ChallengeFailed, match="expired"):
        challenge.verify(old)


def test_the_honeypot_and_the_rate_limit(
    signup: SignupForm, lists: dict[str, MailingList], settings: Any
) -> None:
    response = post(
        Client(),
        signup,
        {
            "email": "bot@example.com",
            "website": "http://spam",
            "altcha": solved(settings),
            "lists": [lists["offers"].pk],
        },
    )
    assert response.status_code == 200  # the bot is told it worked
    assert not Subscriber.objects.exists()

    settings.POSTINO = {**settings.POSTINO, "SIGNUP_RATE_PER_IP": 2}
    crowd = Client(REMOTE_ADDR="192.0.2.44")
    answers = [
        post(
            crowd,
            signup,
            {
                "email": f"p{i}@example.com",
                "altcha": solved(settings),
                "lists": [lists["offers"].pk],
            },
        ).status_code
        for i in range(3)
    ]
    assert answers == [200, 200, 429]
    assert Subscriber.objects.count() == 2


def test_the_page_allows_only_our_script_and_the_challenge_any_site(
    signup: SignupForm, client: Client
) -> None:
    page = client.get(reverse("public:signup", args=["news"]))
    assert "script-src 'self'" in page["Content-Security-Policy"]
    assert CONSENT in page.text
    answer = client.get(reverse("public:signup_challenge", args=["news"]))
    assert answer["Access-Control-Allow-Origin"] == "*"
    assert set(answer.json()) == {"algorithm", "challenge", "salt", "maxnumber", "signature"}
    SignupForm.objects.update(enabled=False)
    assert client.get(reverse("public:signup", args=["news"])).status_code == 404


def test_staff_make_a_form_and_each_consent_wording_is_kept(
    teammate_client: Client, lists: dict[str, MailingList]
) -> None:
    url = reverse("signup_forms:create")
    bad = teammate_client.post(url, {"name": "", "slug": "no spaces", "lists": []})
    for message in (
        "Give the form a name.",
        "Use letters, digits, dashes and underscores only.",
        "Choose at least one list the form subscribes to.",
    ):
        assert message in bad.text
    fields = {
        "name": "Footer",
        "slug": "footer",
        "title": "Join",
        "consent_text": "Version one",
        "lists": [lists["offers"].pk],
        "ask_name": "on",
        "enabled": "on",
    }
    response = teammate_client.post(url, fields, follow=True)
    form = SignupForm.objects.get()
    assert "data-postino-signup=&quot;http" in response.text  # the snippet, escaped for display
    teammate_client.post(
        reverse("signup_forms:edit", args=[form.pk]), {**fields, "consent_text": "Version two"}
    )
    form.refresh_from_db()
    assert form.consent_label == "footer v2"
    assert list(ConsentText.objects.values_list("version", "text")) == [
        (2, "Version two"),
        (1, "Version one"),
    ]


def test_behind_our_proxy_each_visitor_has_their_own_limit(
    signup: SignupForm, lists: dict[str, MailingList], settings: Any
) -> None:
    settings.POSTINO = {**settings.POSTINO, "SIGNUP_RATE_PER_IP": 1, "TRUST_X_FORWARDED_FOR": True}
    for n, chain in enumerate(["198.51.100.1", "6.6.6.6, 198.51.100.2"]):
        answer = post(
            Client(REMOTE_ADDR="10.0.0.2"),
            signup,
            {
                "email": f"v{n}@example.com",
                "altcha": solved(settings),
                "lists": [lists["offers"].pk],
            },
            HTTP_X_FORWARDED_FOR=chain,
        )
        assert answer.status_code == 200
    ips = set(ConsentEvent.objects.values_list("ip", flat=True))
    assert ips == {"198.51.100.1", "198.51.100.2"}
