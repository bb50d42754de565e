from __future__ import annotations

import pytest

from campaigns.html_to_text import html_to_text
from campaigns.rendering import CompiledCampaign, TemplateValidationError, validate_templates


def context(name: str = "Ada", **attributes: object) -> dict[str, object]:
    return {
        "subscriber": {"id": 1, "email": "ada@example.org", "name": name, "attributes": attributes},
        "campaign": {"id": 1, "name": "Spring", "subject": "Hi"},
        "unsubscribe_url": "https://x.example/u",
        "preferences_url": "https://x.example/p",
        "webview_url": "https://x.example/v",
    }


def test_a_syntax_error_is_reported_with_field_line_and_message() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        validate_templates(subject="Hi", html="<p>one</p>\n<p>two</p>\n{% if %}\n")
    (problem,) = caught.value.problems
    assert problem.field == "html"
    assert problem.line == 3
    assert "Expected an expression" in problem.message


def test_errors_in_several_fields_are_all_reported() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        validate_templates(subject="{{ broken", html="ok", text="{% endfor %}")
    assert {p.field for p in caught.value.problems} == {"subject", "text"}


def test_the_sandbox_refuses_access_to_python_internals() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        validate_templates(
            subject="Hi", html="line one\n{{ subscriber.__class__.__mro__[1].__subclasses__() }}"
        )
    (problem,) = caught.value.problems
    assert problem.field == "html"
    assert problem.line == 2
    assert "unsafe" in problem.message or "not safely accessible" in problem.message


def test_html_is_autoescaped_but_subject_and_text_are_not() -> None:
    compiled = CompiledCampaign(
        subject="For {{ subscriber.name }}",
        html="<p>{{ subscriber.name }}</p>",
        text="Hi {{ subscriber.name }}",
        layout=None,
    )
    rendered = compiled.render(context(name="<script>alert(1)</script> & co"))
    assert rendered.html == "<p>&lt;script&gt;alert(1)&lt;/script&gt; &amp; co</p>"
    assert rendered.text == "Hi <script>alert(1)</script> & co"
    assert rendered.subject == "For <script>alert(1)</script> & co"


def test_missing_attributes_render_empty_instead_of_failing() -> None:
    compiled = CompiledCampaign(
        subject="s", html="[{{ subscriber.attributes.city.name }}]", text="", layout=None
    )
    assert compiled.render(context()).html == "[]"


def test_the_text_part_is_generated_from_html_when_missing() -> None:
    compiled = CompiledCampaign(
        subject="s",
        html="<h1>Hello {{ subscriber.name }}</h1><p>Read <a href='https://x.example/a'>this</a></p>"
        "<ul><li>one</li><li>two</li></ul><style>p{}</style>",
        text="",
        layout=None,
    )
    text = compiled.render(context()).text
    assert text == "Hello Ada\n\nRead this (https://x.example/a)\n\n* one\n* two\n"


def test_a_layout_wraps_the_body_and_keeps_body_line_numbers() -> None:
    layout = "<html><body><header>Logo</header>{% block content %}{% endblock %}</body></html>"
    compiled = CompiledCampaign(
        subject="s", html="<p>Hi {{ subscriber.name }}</p>", text="", layout=layout
    )
    assert compiled.render(context()).html == (
        "<html><body><header>Logo</header><p>Hi Ada</p></body></html>"
    )
    with pytest.raises(TemplateValidationError) as caught:
        validate_templates(subject="s", html="ok\n{{ oops(", layout=layout)
    assert caught.value.problems[0].line == 2


def test_a_layout_without_a_content_block_is_rejected() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        validate_templates(subject="s", html="ok", layout="<html></html>")
    assert caught.value.problems[0].field == "layout"


def test_a_subject_is_always_one_line() -> None:
    compiled = CompiledCampaign(
        subject="A\n{{ subscriber.name }}\r\nB", html="x", text="", layout=None
    )
    assert compiled.render(context()).subject == "A Ada B"


def test_html_to_text_skips_scripts_and_keeps_paragraphs() -> None:
    text = html_to_text("<p>One</p><script>var x;</script><p>Two<br>Three</p>")
    assert text == "One\n\nTwo\nThree\n"


def test_html_to_text_keeps_no_break_spaces_and_collapses_the_rest() -> None:
    assert html_to_text("<p>a&nbsp;&nbsp;b \t\n c</p>") == "a\u00a0\u00a0b c\n"


def test_html_to_text_treats_script_content_as_text_not_markup() -> None:
    assert html_to_text("<p>x</p><script>if (a<b) {}</script><p>y</p>") == "x\n\ny\n"


def test_html_to_text_decodes_entities_in_text_and_links() -> None:
    text = html_to_text('<p>A &amp; B</p><a href="https://x.example/?a=1&amp;b=2">go</a>')
    assert text == "A & B\n\ngo (https://x.example/?a=1&b=2)\n"
