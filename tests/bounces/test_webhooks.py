"""ESP tracking webhooks: authenticated, stored once, processed by a worker task.

The payloads are written the way each ESP documents its webhooks; they are
posted through anymail's real views, so validation and normalisation are real."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from bounces.models import BounceEvent, Suppression, TrackingEvent
from bounces.webhooks import handle_tracking_event
from delivery import verp
from delivery.models import Delivery, SmtpServer
from subscribers.models import Subscriber, Subscription
from tests.support.factories import add_audience, make_campaign, make_list

pytest.importorskip("bounces.parser")
pytestmark = pytest.mark.django_db

SECRET = "hook-user:hook-password"


@pytest.fixture(autouse=True)
def webhook_settings(settings: Any) -> None:
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


def auth(secret: str = SECRET) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


@pytest.fixture
def sent_delivery() -> Delivery:
    server = SmtpServer.objects.create(
        name="ESP", kind="esp", esp="postmark", messages_per_second=5
    )
    news = make_list()
    (reader,) = add_audience(news, 1)
    campaign = make_campaign(lists=[news], server=server)
    return Delivery.objects.create(
        campaign=campaign, subscriber=reader, status="sent", provider_message_id="esp-msg-1"
    )


def post(client: Client, esp: str, payload: Any, **extra: Any) -> Any:
    return client.post(
        f"/webhooks/anymail/{esp}/tracking/",
        data=json.dumps(payload),
        content_type="application/json",
        **{**auth(), **extra},
    )


def process_all(
    django_capture_on_commit_callbacks: Callable[..., Any], send: Callable[[], Any]
) -> Any:
    # The webhook queues the work after commit; here we run it as the worker would.
    with django_capture_on_commit_callbacks() as callbacks:
        response = send()
    for event in TrackingEvent.objects.filter(processed_at__isnull=True):
        handle_tracking_event(event.pk)
    return response, callbacks


def postmark_bounce(delivery: Delivery, *, record_id: int = 4001) -> dict[str, Any]:
    return {
        "RecordType": "Bounce", "ID": record_id, "Type": "HardBounce", "TypeCode": 1,
        "Name": "Hard bounce", "MessageID": "esp-msg-1", "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, "
        "mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": delivery.subscriber.email, "From": "news@postino.example.com",
        "BouncedAt": "2026-11-27T10:00:00Z", "Inactive": True, "CanActivate": True,
        "Subject": "News", "Metadata": {"postino_ref": verp.make_token(delivery.pk)},
    }  # fmt: skip


def test_a_postmark_hard_bounce_suppresses_the_address_once(
    client: Client, sent_delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    payload = postmark_bounce(sent_delivery)
    response, callbacks = process_all(
        django_capture_on_commit_callbacks, lambda: post(client, "postmark", payload)
    )
    assert response.status_code == 200
    assert len(callbacks) == 1
    # Postmark re-sends the same event: stored once, acted on once.
    assert post(client, "postmark", payload).status_code == 200
    assert TrackingEvent.objects.count() == 1
    (event,) = BounceEvent.objects.all()
    assert (event.kind, event.source, event.provider) == ("hard", "webhook", "postmark")
    assert event.delivery_id == sent_delivery.pk
    assert event.campaign_id == sent_delivery.campaign_id
    assert event.status == "5.1.1"
    suppression = Suppression.objects.get(email=sent_delivery.subscriber.email)
    assert suppression.bounce_id == event.pk


def test_a_webhook_without_the_secret_is_refused_and_changes_nothing(
    client: Client, sent_delivery: Delivery
) -> None:
    wrong = base64.b64encode(b"hook-user:wrong").decode()
    response = client.post(
        "/webhooks/anymail/postmark/tracking/",
        data=json.dumps(postmark_bounce(sent_delivery)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {wrong}",
    )
    assert response.status_code in {400, 401, 403}
    assert not TrackingEvent.objects.exists()


def test_a_postmark_spam_complaint_unsubscribes_and_suppresses(
    client: Client, sent_delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    payload = {
        "RecordType": "SpamComplaint", "ID": 4002, "Type": "SpamComplaint", "TypeCode": 512,
        "MessageID": "esp-msg-1", "Email": sent_delivery.subscriber.email,
        "BouncedAt": "2026-11-27T10:05:00Z", "Description": "The subscriber explicitly marked "
        "this message as spam.", "Details": "Test spam complaint details",
        "Metadata": {"postino_ref": verp.make_token(sent_delivery.pk)},
    }  # fmt: skip
    process_all(django_capture_on_commit_callbacks, lambda: post(client, "postmark", payload))
    event = BounceEvent.objects.get()
    assert event.kind == "complaint"
    assert Suppression.objects.get().reason == "complaint"
    assert set(
        Subscription.objects.filter(subscriber=sent_delivery.subscriber).values_list(
            "status", flat=True
        )
    ) == {"unsubscribed"}


# Anymail still ships SendGrid's webhook but warns that it no longer supports
# it officially; we keep accepting SendGrid's events (see docs/decisions.md).
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
def test_sendgrid_batches_are_split_into_events_and_ignored_kinds_are_acknowledged(
    client: Client, sent_delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    email = sent_delivery.subscriber.email
    payload = [
        {"email": email, "timestamp": 1795000000, "event": "open", "sg_event_id": "sg-open-1",
         "sg_message_id": "esp-msg-1.filter0001"},
        {"email": email, "timestamp": 1795000001, "event": "bounce", "type": "bounce",
         "sg_event_id": "sg-bounce-1", "sg_message_id": "esp-msg-1.filter0001",
         "status": "5.1.1", "reason": "550 5.1.1 The email account does not exist.",
         "postino_ref": verp.make_token(sent_delivery.pk)},
        {"email": "stranger@example.net", "timestamp": 1795000002, "event": "spamreport",
         "sg_event_id": "sg-spam-1", "sg_message_id": "other.filter0001"},
    ]  # fmt: skip
    response, _ = process_all(
        django_capture_on_commit_callbacks, lambda: post(client, "sendgrid", payload)
    )
    assert response.status_code == 200
    kinds = dict(BounceEvent.objects.values_list("email", "kind"))
    assert kinds == {email: "hard", "stranger@example.net": "complaint"}
    assert not TrackingEvent.objects.filter(event_type="opened").exists()


def mailgun_signature(key: str) -> dict[str, str]:
    timestamp, token = str(int(time.time())), "a" * 50
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256)
    return {"timestamp": timestamp, "token": token, "signature": signature.hexdigest()}


def test_a_mailgun_event_needs_its_signature(
    client: Client,
    sent_delivery: Delivery,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    key = "mailgun-signing-key"
    settings.ANYMAIL = {**settings.ANYMAIL, "MAILGUN_WEBHOOK_SIGNING_KEY": key}
    email = sent_delivery.subscriber.email

    def payload(signature: dict[str, str]) -> dict[str, Any]:
        return {
            "signature": signature,
            "event-data": {
                "event": "failed", "id": "mg-event-1", "timestamp": 1795000000.5,
                "severity": "permanent", "reason": "bounce", "recipient": email,
                "message": {"headers": {"message-id": "esp-msg-1"}},
                "delivery-status": {"code": 550, "message": "5.1.1 No such user",
                                    "description": "No such mailbox"},
                "user-variables": {"postino_ref": verp.make_token(sent_delivery.pk)},
            },
        }  # fmt: skip

    forged = mailgun_signature("not-the-key")
    assert post(client, "mailgun", payload(forged)).status_code == 400
    assert not TrackingEvent.objects.exists()
    process_all(
        django_capture_on_commit_callbacks,
        lambda: post(client, "mailgun", payload(mailgun_signature(key))),
    )
    event = BounceEvent.objects.get()
    assert (event.kind, event.email, event.provider) == ("hard", email, "mailgun")


def test_an_ses_bounce_through_sns_is_recorded(
    client: Client, sent_delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    email = sent_delivery.subscriber.email
    ses_event = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": email, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": "2026-11-27T10:00:00.000Z", "feedbackId": "ses-feedback-1",
        },
        "mail": {"timestamp": "2026-11-27T09:59:58.000Z", "messageId": "esp-msg-1",
                 "source": "news@postino.example.com", "destination": [email],
                 "headers": [{"name": "X-Postino-Ref",
                              "value": verp.make_token(sent_delivery.pk)}]},
    }  # fmt: skip
    sns = {
        "Type": "Notification", "MessageId": "sns-1",
        "TopicArn": "arn:aws:sns:us-east-1:123456789012:postino-ses",
        "Message": json.dumps(ses_event), "Timestamp": "2026-11-27T10:00:01.000Z",
        "SignatureVersion": "1", "Signature": "c2ln", "SigningCertURL":
        "https://sns.us-east-1.amazonaws.com/cert.pem", "UnsubscribeURL": "https://sns/unsub",
    }  # fmt: skip
    response, _ = process_all(
        django_capture_on_commit_callbacks,
        lambda: post(
            client,
            "amazon_ses",
            sns,
            HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
            HTTP_X_AMZ_SNS_MESSAGE_ID="sns-1",
        ),
    )
    assert response.status_code == 200
    event = BounceEvent.objects.get()
    assert (event.kind, event.email, event.provider) == ("hard", email, "amazon_ses")
    assert Subscriber.objects.filter(email=email).exists()
