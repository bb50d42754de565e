"""The text part derived once from the HTML template reads as each recipient's
converted HTML would, and the cases it cannot foresee fall back to converting."""

from __future__ import annotations

from typing import Any

import pytest

import campaigns.rendering
from campaigns.html_to_text import html_to_text
from campaigns.rendering import (
    DERIVED_TEXT_CHECKS,
    HTML_ENV,
    CompiledCampaign,
    subscriber_context,
)
from campaigns.text_part import derive_text_source

NEWSLETTER = """<html><head><style>p { color: red }</style><title>{{ campaign.name }}</title></head>
<body>
  <table width="600"><tr><td>
    <h1>Hello {{ subscriber.name }},</h1>
    {# a note for the team #}
    <p>Your city: {{ subscriber.attributes.city | default("somewhere") | upper }}.
       Reader number {{ subscriber.id }}.</p>
    {% if subscriber.attributes.vip %}<p><b>Thank you</b> for being a VIP.</p>{% endif %}
    <ul>{% for item in subscriber.attributes.picks or ["Books", "Maps"] %}
      <li>{{ item }} &amp; more</li>{% endfor %}
    </ul>
    <p><a href="{{ webview_url }}">{{ webview_url }}</a> ·
       <a href="https://shop.example.com/?id={{ subscriber.id }}&amp;ref=news">Shop</a> ·
       <a href="#top">Top</a> <img src="x.png" alt="Logo of {{ campaign.name }}"></p>
    <hr>
    <p>{% set greeting = "Bye" %}{{ greeting }}, <a href="{{ unsubscribe_url }}">unsubscribe</a></p>
    <p>In
       {%- if subscriber.attributes.city %} {{ subscriber.attributes.city -}} ,{% endif %}
       {{- " " }}May.</p>
  </td></tr></table>
</body></html>
"""

MEMBERS: list[dict[str, Any]] = [
    {"id": 1, "email": "a@example.org", "name": "Ann", "attributes": {"city": "Oslo"}},
    {"id": 2, "email": "b@example.org", "name": "Bo  <Boss> & Co", "attributes": {"vip": True}},
    {
        "id": 3,
        "email": "c@example.org",
        "name": "  Cy\n Lee ",
        "attributes": {"picks": ["Tea & cake", "<i>x</i>"], "city": "a\tb"},
    },
    {"id": 4, "email": "d@example.org", "name": "", "attributes": {}},
]


def _lines(text: str) -> list[str]:
    """Each line's words: what a reader sees (runs of spaces aside)."""
    return [" ".join(line.split()) for line in text.split("\n")]


def _context(member: dict[str, Any]) -> dict[str, Any]:
    return subscriber_context(member, campaign_name="May & June", campaign_subject="News")


def _compiled(html: str, layout: str | None = None) -> CompiledCampaign:
    return CompiledCampaign(subject="News", html=html, text="", layout=layout)


def _counting_conversions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    converted: list[str] = []

    def counting(html: str) -> str:
        converted.append(html)
        return html_to_text(html)

    monkeypatch.setattr(campaigns.rendering, "html_to_text", counting)
    return converted


@pytest.mark.parametrize("member", MEMBERS, ids=lambda member: f"member-{member['id']}")
def test_the_derived_text_reads_as_the_converted_html(member: dict[str, Any]) -> None:
    rendered = _compiled(NEWSLETTER).render(_context(member))
    assert _lines(rendered.text) == _lines(html_to_text(rendered.html))


def test_the_html_is_converted_only_for_the_first_recipients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    compiled = _compiled(NEWSLETTER)
    converted = _counting_conversions(monkeypatch)
    texts = [compiled.render(_context(member)).text for member in MEMBERS * 3]
    assert len(converted) == DERIVED_TEXT_CHECKS
    assert "Hello Bo <Boss> & Co," in texts[1]
    assert "* Tea & cake & more" in texts[2]


def test_a_layout_and_its_body_are_derived_together(monkeypatch: pytest.MonkeyPatch) -> None:
    layout = (
        "<div><p>Header of {{ campaign.name }}</p>{% block content %}{% endblock %}"
        '<p><a href="{{ preferences_url }}">Preferences</a></p></div>'
    )
    compiled = _compiled("<p>Body for {{ subscriber.name }}</p>", layout)
    converted = _counting_conversions(monkeypatch)
    for member in MEMBERS * 2:
        rendered = compiled.render(_context(member))
        assert _lines(rendered.text) == _lines(html_to_text(rendered.html))
    assert len(converted) == DERIVED_TEXT_CHECKS
    assert rendered.text.startswith("Header of May & June\n\nBody for")


@pytest.mark.parametrize(
    "html",
    [
        "<p>{{ subscriber.name | safe }}</p>",
        "<p>{{ subscriber.name | urlize }}</p>",
        "<p>{{ subscriber.name | e }}</p>",
        "{% macro hi(n) %}<b>{{ n }}</b>{% endmacro %}<p>{{ hi(subscriber.name) }}</p>",
        "{% set block_of_markup %}<b>x</b>{% endset %}<p>{{ block_of_markup }}</p>",
        '<p{{ {"title": subscriber.name} | xmlattr }}>x</p>',
        "<pre>{{ subscriber.name }}</pre>",
        '<p class="{% if subscriber.name %}a{% endif %}">x</p>',
        "<style>{% if subscriber.name %}p {}{% endif %}</style><p>x</p>",
        "<p>{% raw %}{{ literally }}{% endraw %}</p>",
    ],
)
def test_what_the_conversion_cannot_foresee_is_not_derived(html: str) -> None:
    assert derive_text_source(html, HTML_ENV) is None
    member = MEMBERS[1]
    rendered = _compiled(html).render(_context(member))
    assert rendered.text == html_to_text(rendered.html)


def test_markup_from_safe_values_is_converted_not_shown() -> None:
    rendered = _compiled("<p>{{ '<b>bold</b>' | safe }} text</p>").render(_context(MEMBERS[0]))
    assert rendered.text == "bold text\n"


def test_a_recipient_whose_text_would_differ_turns_derivation_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A link whose label is its address only for some recipients: the
    derivation cannot know, the check on the first recipients sees it."""
    html = '<p><a href="{{ subscriber.attributes.site }}">https://a.example</a></p>'
    assert derive_text_source(html, HTML_ENV) is not None
    compiled = _compiled(html)
    site = {"id": 5, "email": "e@example.org", "name": "E",
            "attributes": {"site": "https://a.example"}}  # fmt: skip
    converted = _counting_conversions(monkeypatch)
    for member in [site, *MEMBERS * 2]:
        rendered = compiled.render(_context(member))
        assert rendered.text == html_to_text(rendered.html)
    assert len(converted) == 1 + len(MEMBERS) * 2, "every recipient converted after the miss"


def test_a_template_the_sample_subscriber_cannot_render_is_still_derived(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sample has no attributes; real members do (the case validation
    only warns about), so their first renders do the checking."""
    compiled = _compiled("<p>Hello {{ subscriber.attributes.city.upper() }}!</p>")
    converted = _counting_conversions(monkeypatch)
    members = [{**MEMBERS[0], "id": n, "attributes": {"city": f"Town {n}"}} for n in range(6)]
    texts = [compiled.render(_context(member)).text for member in members]
    assert texts[5] == "Hello TOWN 5!\n"
    assert len(converted) == DERIVED_TEXT_CHECKS


def test_a_transactional_templates_text_part_is_derived_though_the_sample_lacks_its_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its variables come from the send's ``data``, which the campaign sample
    has none of: empty, a link converts differently ("Reset ()" against
    "Reset"). The first sends check the derived part instead."""
    from transactional.rendering import compile_parts

    compiled = compile_parts(
        subject="Reset",
        html='<p>Hello {{ name }},</p><p><a href="{{ url }}">Choose a password</a></p>',
    )
    converted = _counting_conversions(monkeypatch)
    texts = [
        compiled.render({"name": f"U{n}", "url": f"https://app.example/r/{n}"},
                        recipient={"email": f"u{n}@example.com"}).text
        for n in range(6)
    ]  # fmt: skip
    assert len(converted) == DERIVED_TEXT_CHECKS
    assert texts[5] == "Hello U5,\n\nChoose a password (https://app.example/r/5)\n"
