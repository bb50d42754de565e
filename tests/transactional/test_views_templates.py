"""The template pages: who may use them, saving only what renders with its
sample data, the live preview, figures and deletion."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from postino.permissions import VIEWERS_GROUP
from tests.conftest import PASSWORD
from transactional.models import Category, TxMessage, TxTemplate

pytestmark = pytest.mark.django_db

PREVIEW = reverse("transactional:template_preview")


@pytest.fixture(autouse=True)
def _plain_http(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = False


@pytest.fixture
def viewer_client() -> Client:
    user = User.objects.create_user("ivy", "ivy@example.com", PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get_or_create(name=VIEWERS_GROUP)[0])
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def receipt() -> TxTemplate:
    return TxTemplate.objects.create(
        name="Receipt",
        subject="Your receipt {{ order_id }}",
        html="<p>Thanks, {{ name }}!</p>",
        sample_data={"name": "Ada", "order_id": "A-1"},
    )


def fields(**changes: Any) -> dict[str, Any]:
    return {
        "name": "Password reset",
        "subject": "Reset your password, {{ name }}",
        "html": '<p>Hello {{ name }}</p>\n<p><a href="{{ reset_url }}">Reset</a></p>\n',
        "text": "",
        "sample_data": json.dumps({"name": "Ada", "reset_url": "https://example.com/r/1"}),
        "from_email": "Shop <help@example.com>",
        "reply_to": "",
        **changes,
    }


def test_anonymous_visitors_are_sent_to_log_in(client: Client, receipt: TxTemplate) -> None:
    for url in (
        "/transactional/",
        "/transactional/templates/",
        f"/transactional/templates/{receipt.pk}/",
        f"/transactional/templates/{receipt.pk}/edit/",
    ):
        answer = client.get(url)
        assert answer.status_code == 302 and answer["Location"].startswith("/login/?next="), url
    assert client.post(PREVIEW, fields()).status_code == 302


def test_outsiders_are_refused(outsider_client: Client) -> None:
    assert outsider_client.get("/transactional/templates/").status_code == 403


def test_a_viewer_reads_the_pages_and_changes_nothing(
    viewer_client: Client, receipt: TxTemplate
) -> None:
    for url in (
        "/transactional/",
        "/transactional/templates/",
        f"/transactional/templates/{receipt.pk}/",
        f"/transactional/templates/{receipt.pk}/delete/",
        "/transactional/categories/",
        "/transactional/messages/",
    ):
        assert viewer_client.get(url).status_code == 200, url
    assert viewer_client.post("/transactional/templates/new/", fields()).status_code == 403
    edit = f"/transactional/templates/{receipt.pk}/edit/"
    assert viewer_client.post(edit, fields(name="Mine")).status_code == 403
    assert viewer_client.post(f"/transactional/templates/{receipt.pk}/delete/").status_code == 403
    assert viewer_client.post(PREVIEW, fields()).status_code == 403
    assert list(TxTemplate.objects.values_list("name", flat=True)) == ["Receipt"]


def test_a_template_that_renders_with_its_sample_data_is_saved(teammate_client: Client) -> None:
    category = Category.objects.create(name="password-reset", exempt_from_unsubscribes=True)
    answer = teammate_client.post(
        "/transactional/templates/new/", fields(category=category.pk, track_opens="on")
    )
    template = TxTemplate.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/transactional/templates/{template.pk}/"
    assert template.sample_data == {"name": "Ada", "reset_url": "https://example.com/r/1"}
    assert template.category == category
    assert template.from_email == "Shop <help@example.com>"
    assert (template.track_opens, template.track_clicks) == (True, False)


def test_a_template_error_is_shown_on_its_field_with_its_line_and_nothing_is_saved(
    teammate_client: Client,
) -> None:
    answer = teammate_client.post(
        "/transactional/templates/new/", fields(html="<p>One</p>\n<p>{% if %}</p>\n")
    )
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert any(message.startswith("Line 2:") for message in errors["html"])
    assert TxTemplate.objects.count() == 0


def test_a_variable_the_sample_data_lacks_is_shown_beside_the_sample_data(
    teammate_client: Client,
) -> None:
    answer = teammate_client.post(
        "/transactional/templates/new/", fields(sample_data='{"name": "Ada"}')
    )
    assert answer.status_code == 400
    [message] = answer.context["form"].errors["sample_data"]
    assert "reset_url" in message
    assert TxTemplate.objects.count() == 0


def test_sample_data_must_be_a_json_object_and_a_mistake_names_its_line(
    teammate_client: Client,
) -> None:
    broken = teammate_client.post(
        "/transactional/templates/new/", fields(sample_data='{\n  "name": "Ada",\n  oops\n}')
    )
    [message] = broken.context["form"].errors["sample_data"]
    assert message.startswith("Line 3:")
    listed = teammate_client.post("/transactional/templates/new/", fields(sample_data="[1, 2]"))
    assert "must be a JSON object" in listed.context["form"].errors["sample_data"][0]
    assert TxTemplate.objects.count() == 0


def test_every_field_problem_comes_in_one_round(teammate_client: Client) -> None:
    TxTemplate.objects.create(name="Password reset", subject="x", html="<p>x</p>")
    answer = teammate_client.post(
        "/transactional/templates/new/",
        fields(from_email="not an address", html="<p>{{ name }</p>"),
    )
    errors = answer.context["form"].errors
    assert {"name", "from_email", "html"} <= set(errors)


def test_editing_saves_the_new_version(teammate_client: Client, receipt: TxTemplate) -> None:
    form = teammate_client.get(f"/transactional/templates/{receipt.pk}/edit/")
    assert json.loads(form.context["form"].initial["sample_data"]) == receipt.sample_data
    answer = teammate_client.post(
        f"/transactional/templates/{receipt.pk}/edit/",
        fields(name="Receipt", subject="Receipt for {{ name }}"),
    )
    assert answer.status_code == 302
    receipt.refresh_from_db()
    assert receipt.subject == "Receipt for {{ name }}"


def test_the_live_preview_renders_the_unsaved_fields_with_the_typed_sample_data(
    teammate_client: Client,
) -> None:
    answer = teammate_client.post(
        PREVIEW, fields(sample_data='{"name": "Grace", "reset_url": "#"}')
    )
    body = answer.json()
    assert body["ok"] is True
    assert body["subject"] == "Reset your password, Grace"
    assert "<p>Hello Grace</p>" in body["html"]
    assert "Hello Grace" in body["text"]
    assert TxTemplate.objects.count() == 0


def test_the_live_preview_names_the_field_and_line_of_each_problem(
    teammate_client: Client,
) -> None:
    template_error = teammate_client.post(PREVIEW, fields(html="<p>a</p>\n{% endif %}")).json()
    assert template_error["ok"] is False
    assert [(e["field"], e["line"]) for e in template_error["errors"]] == [("html", 2)]
    json_error = teammate_client.post(PREVIEW, fields(sample_data='{"name": \n}')).json()
    assert [(e["field"], e["line"]) for e in json_error["errors"]] == [("sample_data", 2)]
    missing = teammate_client.post(PREVIEW, fields(sample_data='{"name": "Ada"}')).json()
    assert [e["field"] for e in missing["errors"]] == ["sample_data"]


def test_the_live_preview_needs_the_csrf_token(teammate: User) -> None:
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(teammate)
    assert strict.post(PREVIEW, fields()).status_code == 403


def test_the_template_page_shows_its_figures_and_a_preview(
    teammate_client: Client, receipt: TxTemplate
) -> None:
    receipt.track_opens = True
    receipt.save()
    now = timezone.now()
    statuses = ["sent", "sent", "sent", "bounced", "failed", "refused", "queued"]
    TxMessage.objects.bulk_create(
        TxMessage(
            source="api",
            email=f"p{i}@example.com",
            template=receipt,
            status=status,
            opened_at=now if i < 2 else None,
        )
        for i, status in enumerate(statuses)
    )
    page = teammate_client.get(f"/transactional/templates/{receipt.pk}/")
    figures = page.context["figures"]
    assert (figures.sent, figures.bounced, figures.failed) == (4, 1, 1)
    assert figures.bounce_rate == 25
    # Opens are tracked by this template, clicks are not: no figure rather than a zero.
    assert (figures.opened, figures.open_rate, figures.clicked) == (2, 50, None)
    assert page.context["chart"].total == 6
    html = page.content.decode()
    assert "25.0 %" in html and "50.0 %" in html
    assert "Thanks, Ada!" in html  # the preview, in the iframe's srcdoc
    listing = teammate_client.get("/transactional/templates/")
    assert [t.sent_recently for t in listing.context["templates"]] == [4]


def test_deleting_a_template_keeps_its_messages(
    teammate_client: Client, receipt: TxTemplate
) -> None:
    message = TxMessage.objects.create(source="api", email="a@example.com", template=receipt)
    assert teammate_client.get(f"/transactional/templates/{receipt.pk}/delete/").status_code == 200
    answer = teammate_client.post(f"/transactional/templates/{receipt.pk}/delete/")
    assert answer.status_code == 302
    assert not TxTemplate.objects.exists()
    message.refresh_from_db()
    assert message.template is None
