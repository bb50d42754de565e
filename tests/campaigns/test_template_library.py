"""The layout library: shipped defaults, copies, CSS inlined once per campaign, preheaders."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.test import Client

from campaigns import css_inlining
from campaigns.models import Campaign, Template
from campaigns.rendering import CompiledCampaign, sample_context, validate_templates
from delivery.pipeline.prepare import MessageFactory
from subscribers.models import Subscriber
from tests.support.factories import add_audience, make_campaign, make_list

DEFAULTS = ("Newsletter (one column)", "Announcement (hero image)")
LAYOUT = """<!doctype html><html><head><title>{{ campaign.subject }}</title><style>
p { color: #333333; } .footer a { color: #888888; }
@media only screen and (max-width: 620px) { .container { width: 100% !important; } }
</style></head><body><table class="container">
{% if subscriber.name %}<tr><td>For {{ subscriber.name }}</td></tr>{% endif %}
<tr><td>{% block content %}{% endblock %}</td></tr>
<tr><td class="footer"><a href="{{ unsubscribe_url }}">Unsubscribe</a></td></tr>
</table></body></html>"""
BODY = '<p>Hello {{ subscriber.name }}, <a href="{{ webview_url }}?from=mail">read online</a></p>'


@pytest.fixture
def campaign(db: None) -> Campaign:
    campaign = make_campaign(lists=[make_list()], server=None)
    campaign.html = "<p>Hi {{ subscriber.name }}, you live in {{ subscriber.attributes.city }}.</p>"
    campaign.save()
    return campaign


@pytest.fixture
def alice(db: None) -> Subscriber:
    return Subscriber.objects.create(
        email="alice@example.com", name="Alice", attributes={"city": "Lisbon"}
    )


def render(**kwargs: str) -> str:
    compiled = CompiledCampaign(
        subject=kwargs.pop("subject", "Hi"),
        text=kwargs.pop("text", ""),
        layout=kwargs.pop("layout", None),
        html=kwargs.pop("html"),
        preheader=kwargs.pop("preheader", ""),
    )
    assert not kwargs, f"unknown parts: {sorted(kwargs)}"
    context = sample_context(campaign_name="Spring", campaign_subject="Spring news")
    context["subscriber"]["name"] = "Ada <Lovelace>"
    return compiled.render(context).html


@pytest.mark.django_db
@pytest.mark.parametrize("name", DEFAULTS)
def test_the_default_layouts_ship_and_pass_the_layouts_own_validation(name: str) -> None:
    layout = Template.objects.get(name=name)
    assert validate_templates(subject="Hi", html="<p>Body</p>", layout=layout.html) == []
    html = render(html="<p>Body</p>", layout=layout.html)
    assert "<p" in html and "Body" in html
    assert "https://example.com/unsubscribe" in html
    assert "https://example.com/preferences" in html
    assert "Street 1" in html  # the postal address
    assert "@media only screen and (max-width: 620px)" in html  # kept for small screens
    assert 'style="' in html and "max-width: 600px" in html  # the container, inlined


@pytest.mark.django_db
def test_a_layout_is_duplicated_as_a_copy_with_a_free_name(owner_client: Client) -> None:
    layout = Template.objects.get(name=DEFAULTS[0])
    first = owner_client.post(f"/layouts/{layout.pk}/duplicate/")
    second = owner_client.post(f"/layouts/{layout.pk}/duplicate/")
    copy = Template.objects.get(name=f"Copy of {DEFAULTS[0]}")
    again = Template.objects.get(name=f"Copy of {DEFAULTS[0]} (2)")
    assert first.headers["Location"] == f"/layouts/{copy.pk}/"
    assert second.headers["Location"] == f"/layouts/{again.pk}/"
    assert copy.html == again.html == layout.html


@pytest.mark.django_db
def test_duplicating_is_a_post_for_staff_only(client: Client, teammate_client: Client) -> None:
    layout = Template.objects.get(name=DEFAULTS[1])
    assert teammate_client.get(f"/layouts/{layout.pk}/duplicate/").status_code == 405
    assert client.post(f"/layouts/{layout.pk}/duplicate/").status_code == 302  # to log in
    assert not Template.objects.filter(name__startswith="Copy of").exists()


def test_inlining_keeps_jinja_tags_in_text_attributes_and_between_rows() -> None:
    html = render(html=BODY, layout=LAYOUT)
    assert '<p style="color: #333333;">Hello Ada &lt;Lovelace&gt;, ' in html
    assert 'href="https://example.com/view?from=mail"' in html
    assert '<a href="https://example.com/unsubscribe" style="color: #888888;">' in html
    assert "<td>For Ada &lt;Lovelace&gt;</td>" in html  # the {% if %} between rows
    assert "<tbody>" not in html  # none in the source, none added around the rows
    assert "@media only screen" in html  # what cannot be inlined stays in the head
    assert "<title>Spring news</title>" in html


def test_a_false_condition_between_rows_still_renders_a_valid_table() -> None:
    compiled = CompiledCampaign(subject="Hi", html=BODY, text="", layout=LAYOUT)
    context = sample_context(campaign_name="Spring", campaign_subject="Spring news")
    context["subscriber"]["name"] = ""
    html = compiled.render(context).html
    assert '<table class="container" style="' not in html or "For" not in html
    assert re.search(r'<table class="container"[^>]*>\s*<tr><td><p', html)


def test_a_body_without_a_layout_is_inlined_too() -> None:
    html = render(html="<style>.x { color: red; }</style><p class=x>{{ subscriber.name }}</p>")
    assert '<p class="x" style="color: red;">Ada &lt;Lovelace&gt;</p>' in html


def test_a_jinja_tag_the_placeholders_cannot_carry_leaves_the_style_element() -> None:
    body = '<style>p { color: red; }</style><p {% if subscriber.name %}class="a"{% endif %}>x</p>'
    html = render(html=body)
    assert html == '<style>p { color: red; }</style><p class="a">x</p>'


def test_a_template_without_style_is_sent_as_written() -> None:
    assert render(html="<p>Hi {{ subscriber.name }}</p>") == "<p>Hi Ada &lt;Lovelace&gt;</p>"


def test_a_runtime_error_still_names_the_users_line_after_inlining() -> None:
    compiled = CompiledCampaign(
        subject="Hi", html="<p>one</p>\n<p>{{ nothing() }}</p>", text="", layout=LAYOUT
    )
    with pytest.raises(Exception) as caught:
        compiled.render(sample_context(campaign_name="S", campaign_subject="S"))
    (problem,) = caught.value.problems  # type: ignore[attr-defined]
    assert (problem.field, problem.line) == ("html", 2)


@pytest.mark.django_db
def test_css_is_inlined_once_per_campaign_however_many_recipients(campaign: Campaign) -> None:
    campaign.html = BODY
    campaign.template = Template.objects.get(name=DEFAULTS[0])
    campaign.save()
    readers = add_audience(make_list("Readers"), 25)
    with (
        mock.patch.object(
            css_inlining, "inline_templates", wraps=css_inlining.inline_templates
        ) as inliner,
        mock.patch("campaigns.rendering.inline_templates", inliner),
    ):
        factory = MessageFactory(campaign)
        for reader in readers:
            message = factory.prepare(subscriber=reader, delivery_id=None)
            assert "color: #2f5bea" in message.html  # the layout's rule on the body's link
        MessageFactory(campaign).prepare(subscriber=readers[0], delivery_id=None)
    assert inliner.call_count == 1


PREHEADER = re.compile(
    r'<body[^>]*><div style="display:none;[^"]*">(.*?)(&#847;&zwnj;&nbsp;)+</div>'
)


@pytest.mark.django_db
def test_the_preheader_is_rendered_per_recipient_right_after_body(
    campaign: Campaign, alice: Subscriber
) -> None:
    campaign.preheader = "Inside: news for {{ subscriber.name }} & friends"
    campaign.template = Template.objects.get(name=DEFAULTS[1])
    campaign.save()
    message = MessageFactory(campaign).prepare(subscriber=alice, delivery_id=None)
    match = PREHEADER.search(message.html)
    assert match is not None
    assert match.group(1) == "Inside: news for Alice &amp; friends"
    assert "Inside:" not in message.text  # the text part has no preview line


@pytest.mark.django_db
def test_without_a_layout_the_preheader_opens_the_body(
    campaign: Campaign, alice: Subscriber
) -> None:
    campaign.preheader = "Short"
    campaign.save()
    message = MessageFactory(campaign).prepare(subscriber=alice, delivery_id=None)
    assert message.html.startswith('<div style="display:none;')
    assert message.html.endswith("<p>Hi Alice, you live in Lisbon.</p>")
    assert "Short" not in message.text


@pytest.mark.django_db
def test_an_empty_preheader_inserts_nothing(campaign: Campaign, alice: Subscriber) -> None:
    campaign.template = Template.objects.get(name=DEFAULTS[0])
    campaign.save()
    message = MessageFactory(campaign).prepare(subscriber=alice, delivery_id=None)
    assert "display:none" not in message.html


def test_a_preheader_with_a_syntax_error_is_reported_as_the_preheader() -> None:
    with pytest.raises(Exception) as caught:
        CompiledCampaign(subject="Hi", html="<p>x</p>", text="", layout=None, preheader="{{ x")
    assert [p.field for p in caught.value.problems] == ["preheader"]  # type: ignore[attr-defined]
