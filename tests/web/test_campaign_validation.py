"""The campaign form shows every problem at once, each beside its field."""

from __future__ import annotations

import html

from django.test import Client
from django.urls import reverse

from campaigns.models import Campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList
from tests.web.test_campaigns import _field_html, _form_data


def test_a_bad_from_reply_to_empty_subject_and_template_error_show_together(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(
            newsletter,
            smtp_server,
            from_email="nobody",
            reply_to="also wrong",
            subject="",
            html="<p>Hi</p>\n{% if %}\n",
        ),
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"from_email", "reply_to", "subject", "html"}
    assert errors["subject"] == ["A campaign needs a subject."]
    [template_error] = errors["html"]
    assert template_error.startswith("Line 2: ")
    page = response.content.decode()
    for name in ("from_email", "reply_to", "subject", "html"):
        [message] = errors[name]
        assert html.escape(message) in _field_html(page, name)
    assert not Campaign.objects.exists()


def test_an_empty_form_names_every_missing_field(
    teammate_client: Client, newsletter: MailingList, smtp_server: SmtpServer
) -> None:
    response = teammate_client.post(
        reverse("campaigns:create"),
        _form_data(newsletter, smtp_server, name="", subject="", from_email="", html=""),
    )
    assert set(response.context["form"].errors) == {"name", "subject", "from_email", "html"}
