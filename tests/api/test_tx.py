"""POST /api/v1/tx and GET /api/v1/tx/{id}: accepted, refused, idempotent, sent."""

from __future__ import annotations

import base64
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from bounces.models import BounceEvent, Suppression
from bounces.services import add_manual_suppression
from delivery import verp
from delivery.pipeline import breaker
from subscribers.services import create_list, create_subscriber, unsubscribe
from tests.api.client import ApiClient
from tests.support.factories import make_smtp_server
from tests.support.jobs import QueuedJobs
from tests.support.smtpd import RunningSmtpServer
from transactional import sending
from transactional.models import Category, IdempotencyRecord, TxMessage, TxTemplate

pytestmark = pytest.mark.django_db

RESET = {
    "subject": "Reset your password, {{ name }}",
    "html": '<p>Hello {{ name }}, <a href="{{ reset_url }}">reset it</a>.</p>',
}


@pytest.fixture
def reset_template(db: None) -> TxTemplate:
    return TxTemplate.objects.create(name="Password reset", **RESET)


def received(smtpd: RunningSmtpServer) -> list[EmailMessage]:
    out = []
    for item in smtpd.handler.messages:
        parsed = message_from_bytes(item.data, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out


def test_a_send_is_queued_per_recipient_and_arrives_rendered(
    owner_api: ApiClient,
    reset_template: TxTemplate,
    smtpd: RunningSmtpServer,
    clean_redis: None,
    queued_jobs: QueuedJobs,
    django_capture_on_commit_callbacks: Any,
) -> None:
    make_smtp_server(smtpd)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_api.post(
            "/tx",
            {
                "to": ["Ada@Example.com", "bob@example.com"],
                "template": reset_template.pk,
                "data": {"name": "Ada <3", "reset_url": "https://shop.example/reset/abc"},
                "category": "password-reset",
                "headers": {"X-Order": "1234"},
            },
        )
    assert response.status_code == 202, response.content
    body = response.json()
    assert [m["email"] for m in body["messages"]] == ["ada@example.com", "bob@example.com"]
    assert {m["status"] for m in body["messages"]} == {"queued"}
    assert body["duplicate"] is False
    # One wake-up for the send, not one task per recipient.
    assert queued_jobs.of("transactional.tasks.drain") == [()]

    assert sending.drain() == 2
    messages = received(smtpd)
    assert sorted(str(m["To"]) for m in messages) == ["ada@example.com", "bob@example.com"]
    first = messages[0]
    assert str(first["Subject"]) == "Reset your password, Ada <3"
    html = first.get_body(("html",))
    assert html is not None
    assert "Ada &lt;3" in html.get_content()  # autoescaped
    assert str(first["X-Order"]) == "1234"
    assert "List-Unsubscribe" not in first  # not a marketing category
    envelope = smtpd.handler.messages[0].mail_from
    assert verp.read_tx_token(envelope.partition("+")[2].partition("@")[0]) is not None

    status = owner_api.get(f"/tx/{body['messages'][0]['id']}")
    assert status.status_code == 200
    detail = status.json()
    assert detail["status"] == "sent"
    assert detail["smtp_code"] == 250
    assert detail["category"] == "password-reset"
    assert detail["sent_at"] is not None
    assert Category.objects.filter(name="password-reset").exists()


def test_a_template_that_the_data_does_not_cover_is_refused_naming_what_is_missing(
    owner_api: ApiClient, reset_template: TxTemplate
) -> None:
    response = owner_api.post(
        "/tx", {"to": ["ada@example.com"], "template": reset_template.pk, "data": {"name": "Ada"}}
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors[0]["field"] == "data"
    assert "reset_url" in errors[0]["message"]
    assert not TxMessage.objects.exists()


def test_an_inline_template_that_does_not_compile_is_refused_with_its_line(
    owner_api: ApiClient,
) -> None:
    response = owner_api.post(
        "/tx",
        {"to": ["ada@example.com"], "subject": "Hi", "html": "<p>ok</p>\n{% if %}\n"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "html"
    assert error["message"].startswith("line 2:")


def test_bad_fields_are_each_named(owner_api: ApiClient) -> None:
    response = owner_api.post(
        "/tx",
        {
            "to": ["not-an-address", {"subscriber_id": 999999}],
            "template": 424242,
            "headers": {"From": "evil@example.com", "Bad Name": "x"},
            "channel": "nowhere",
            "attachments": [{"filename": "a.pdf", "content": "***"}],
        },
    )
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert "attachments.0.content" in fields
    response = owner_api.post(
        "/tx",
        {
            "to": ["not-an-address", {"subscriber_id": 999999}],
            "template": 424242,
            "headers": {"From": "evil@example.com", "Bad Name": "x"},
            "channel": "nowhere",
        },
    )
    fields = {e["field"] for e in response.json()["errors"]}
    assert {"to.0", "to.1", "template", "headers.From", "headers.Bad Name", "channel"} <= fields


def test_suppressed_and_unsubscribed_recipients_are_refused_with_the_reason(
    owner_api: ApiClient, owner: Any, reset_template: TxTemplate
) -> None:
    add_manual_suppression(email="gone@example.com", note="asked us", actor=owner)
    news = create_list(name="News")
    left = create_subscriber(email="left@example.com", lists=[news], preconfirm=True)
    unsubscribe(subscriber_id=left.pk, list_ids=[news.pk])
    data = {"name": "x", "reset_url": "https://x.example/r"}
    to = ["gone@example.com", "left@example.com", "fine@example.com"]
    body = owner_api.post("/tx", {"to": to, "template": reset_template.pk, "data": data}).json()
    by_email = {m["email"]: m for m in body["messages"]}
    assert by_email["gone@example.com"]["status"] == "refused"
    assert "suppressed" in by_email["gone@example.com"]["reason"]
    assert by_email["left@example.com"]["status"] == "refused"
    assert "unsubscribed" in by_email["left@example.com"]["reason"]
    assert by_email["fine@example.com"]["status"] == "queued"

    # An exempt category reaches the unsubscribed, never the suppressed.
    Category.objects.create(name="security", exempt_from_unsubscribes=True)
    body = owner_api.post(
        "/tx", {"to": to, "template": reset_template.pk, "data": data, "category": "security"}
    ).json()
    by_email = {m["email"]: m for m in body["messages"]}
    assert by_email["left@example.com"]["status"] == "queued"
    assert by_email["gone@example.com"]["status"] == "refused"


def test_marketing_categories_carry_one_click_unsubscribe_and_go_to_subscribers_only(
    owner_api: ApiClient,
    reset_template: TxTemplate,
    smtpd: RunningSmtpServer,
    clean_redis: None,
) -> None:
    make_smtp_server(smtpd)
    news = create_list(name="News")
    create_subscriber(email="reader@example.com", lists=[news], preconfirm=True)
    Category.objects.create(name="offers", marketing=True)
    data = {"name": "x", "reset_url": "https://x.example/r"}
    body = owner_api.post(
        "/tx",
        {
            "to": ["reader@example.com", "stranger@example.com"],
            "template": reset_template.pk,
            "data": data,
            "category": "offers",
        },
    ).json()
    assert [m["status"] for m in body["messages"]] == ["queued", "refused"]
    sending.drain()
    (message,) = received(smtpd)
    assert "/u/" in str(message["List-Unsubscribe"]) or "https://" in str(
        message["List-Unsubscribe"]
    )
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"


def test_the_same_idempotency_key_never_sends_twice_and_returns_the_first_answer(
    owner_api: ApiClient, reset_template: TxTemplate, queued_jobs: QueuedJobs
) -> None:
    body = {
        "to": ["ada@example.com"],
        "template": reset_template.pk,
        "data": {"name": "Ada", "reset_url": "https://x.example/r"},
        "idempotency_key": "order-1234-reset",
    }
    first = owner_api.post("/tx", body).json()
    again = owner_api.post("/tx", body).json()
    assert again["duplicate"] is True
    assert again["messages"] == first["messages"]
    assert TxMessage.objects.count() == 1
    # The same key for another request is an error, not a silent no-op.
    other = owner_api.post("/tx", {**body, "to": ["bob@example.com"]})
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "idempotency_key"
    # The header works as the field does.
    headed = {k: v for k, v in body.items() if k != "idempotency_key"}
    owner_api._client.defaults["HTTP_IDEMPOTENCY_KEY"] = "from-the-header"
    one = owner_api.post("/tx", headed).json()
    two = owner_api.post("/tx", headed).json()
    assert two["duplicate"] and one["messages"] == two["messages"]
    assert TxMessage.objects.count() == 2
    # Outside the window a key is new again.
    IdempotencyRecord.objects.update(created_at="2000-01-01T00:00:00Z")
    assert owner_api.post("/tx", headed).json()["duplicate"] is False


def test_attachments_arrive_and_a_refusal_bounces_and_suppresses(
    owner_api: ApiClient,
    reset_template: TxTemplate,
    smtpd: RunningSmtpServer,
    clean_redis: None,
) -> None:
    make_smtp_server(smtpd)
    smtpd.handler.refuse_always["dead@example.com"] = "550 5.1.1 No such user"
    pdf = b"%PDF-1.4 invoice"
    body = owner_api.post(
        "/tx",
        {
            "to": ["ada@example.com", "dead@example.com"],
            "subject": "Invoice {{ number }}",
            "html": "<p>Invoice {{ number }} attached.</p>",
            "data": {"number": 7},
            "attachments": [
                {
                    "filename": "invoice-7.pdf",
                    "content_type": "application/pdf",
                    "content": base64.b64encode(pdf).decode(),
                }
            ],
        },
    ).json()
    sending.drain()
    (message,) = received(smtpd)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "invoice-7.pdf"
    assert attachment.get_content() == pdf
    dead = owner_api.get(f"/tx/{body['messages'][1]['id']}").json()
    assert dead["status"] == "bounced"
    assert dead["smtp_code"] == 550
    event = BounceEvent.objects.get(email="dead@example.com")
    assert event.tx_message_id is not None
    assert Suppression.objects.filter(email="dead@example.com", lifted_at__isnull=True).exists()


def test_a_temporary_refusal_is_retried_with_backoff_then_sent(
    owner_api: ApiClient,
    reset_template: TxTemplate,
    smtpd: RunningSmtpServer,
    clean_redis: None,
) -> None:
    make_smtp_server(smtpd)
    smtpd.handler.refuse_times["ada@example.com"] = (1, "451 4.3.0 Try again later")
    body = owner_api.post(
        "/tx",
        {
            "to": ["ada@example.com"],
            "template": reset_template.pk,
            "data": {"name": "Ada", "reset_url": "https://x.example/r"},
        },
    ).json()
    public_id = body["messages"][0]["id"]
    assert sending.drain() == 0
    deferred = owner_api.get(f"/tx/{public_id}").json()
    assert deferred["status"] == "deferred"
    assert deferred["attempts"] == 1
    assert deferred["next_attempt_at"] is not None
    assert "451" in str(deferred["smtp_code"])
    assert sending.drain() == 0  # not due yet
    TxMessage.objects.update(next_attempt_at="2000-01-01T00:00:00Z")
    assert sending.drain() == 1
    assert owner_api.get(f"/tx/{public_id}").json()["status"] == "sent"


def test_an_unknown_id_is_404_and_a_token_is_needed(
    owner_api: ApiClient, anonymous_api: ApiClient
) -> None:
    assert owner_api.get("/tx/7d7a3f5e-0000-4000-8000-000000000000").status_code == 404
    assert owner_api.get("/tx/not-a-uuid").status_code == 404
    assert anonymous_api.post("/tx", {"to": ["a@example.com"]}).status_code == 401


def test_templates_are_managed_over_the_api_and_refused_with_their_line(
    owner_api: ApiClient,
) -> None:
    created = owner_api.post(
        "/tx/templates",
        {
            "name": "Shipped",
            "subject": "Order {{ order }} shipped",
            "html": "<p>Order {{ order }} is on its way.</p>",
            "sample_data": {"order": "A-1"},
            "category": "shipping",
        },
    )
    assert created.status_code == 201, created.content
    template = created.json()
    assert template["category"] == "shipping"
    listed = owner_api.get("/tx/templates").json()["items"]
    assert [t["name"] for t in listed] == ["Shipped"]

    broken = owner_api.patch(
        f"/tx/templates/{template['id']}", {"html": "<p>fine</p>\n{{ order | nosuchfilter }}"}
    )
    assert broken.status_code == 400
    (error,) = broken.json()["errors"]
    assert error["field"] == "html" and error["line"] == 2
    # A sample that does not cover the template is refused too.
    uncovered = owner_api.patch(f"/tx/templates/{template['id']}", {"sample_data": {}})
    assert uncovered.status_code == 400
    assert "order" in uncovered.json()["errors"][0]["message"]

    renamed = owner_api.patch(f"/tx/templates/{template['id']}", {"name": "Order shipped"})
    assert renamed.status_code == 200
    assert renamed.json()["subject"] == "Order {{ order }} shipped"  # the rest kept
    assert owner_api.get(f"/tx/templates/{template['id']}").json()["name"] == "Order shipped"
    assert owner_api.delete(f"/tx/templates/{template['id']}").status_code == 204
    assert owner_api.get(f"/tx/templates/{template['id']}").status_code == 404


def test_a_channel_out_of_rotation_defers_without_trying_and_nothing_is_dropped(
    owner_api: ApiClient,
    reset_template: TxTemplate,
    smtpd: RunningSmtpServer,
    clean_redis: None,
) -> None:
    server = make_smtp_server(smtpd)
    breaker.mark_server_down(server.pk, "TCP: connection refused")
    body = owner_api.post(
        "/tx",
        {
            "to": ["ada@example.com"],
            "template": reset_template.pk,
            "data": {"name": "Ada", "reset_url": "https://x.example/r"},
        },
    ).json()
    assert sending.drain() == 0
    assert not smtpd.handler.messages
    message = owner_api.get(f"/tx/{body['messages'][0]['id']}").json()
    assert message["status"] == "deferred"
    assert message["attempts"] == 0  # nothing was tried
    assert "connection refused" in message["smtp_reply"]
    breaker.mark_server_up(server.pk)
    TxMessage.objects.update(next_attempt_at="2000-01-01T00:00:00Z")
    assert sending.drain() == 1


def test_a_category_that_is_not_a_slug_is_refused_naming_the_field(
    owner_api: ApiClient, reset_template: TxTemplate
) -> None:
    send = {
        "to": ["ada@example.com"],
        "template": reset_template.pk,
        "data": {"name": "Ada", "reset_url": "https://x.example/r"},
    }
    for bad in ("Password reset!", "x" * 65):
        response = owner_api.post("/tx", {**send, "category": bad})
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "category"
    assert not Category.objects.exists()
    assert not TxMessage.objects.exists()
