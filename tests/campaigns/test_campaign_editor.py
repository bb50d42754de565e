"""Writing a campaign in rich text, Markdown or HTML: conversion, services, form."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from campaigns.editor import clean_tag_names, markdown_to_html, switch_loses_formatting
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, Tag
from campaigns.rendering import FieldAndTemplateErrors, TemplateValidationError
from campaigns.services import create_campaign, duplicate_campaign, update_campaign
from delivery.models import SmtpServer
from subscribers.models import MailingList


def test_markdown_keeps_jinja_tags_exactly_even_where_markdown_would_escape_them() -> None:
    html = markdown_to_html(
        '# Hi {{ subscriber.name or "there" }}\n\n'
        "[Unsubscribe]({{ unsubscribe_url }}) and *{{ subscriber.attributes.first_name }}*\n"
    ).html
    assert '<h1>Hi {{ subscriber.name or "there" }}</h1>' in html
    assert '<a href="{{ unsubscribe_url }}">Unsubscribe</a>' in html
    assert "<em>{{ subscriber.attributes.first_name }}</em>" in html


def test_a_statement_alone_on_its_line_is_not_wrapped_in_a_paragraph() -> None:
    html = markdown_to_html("{% for item in [1, 2] %}\n\n- {{ item }}\n\n{% endfor %}\n").html
    assert html.startswith("{% for item in [1, 2] %}\n<ul>")
    assert "<p>{% endfor %}</p>" not in html


def test_markdown_cannot_make_jinja_out_of_escaped_braces_nor_script_links() -> None:
    html = markdown_to_html("Literal {\\{ x }} and [x](javascript:alert(1))\n").html
    assert "{{" not in html
    assert "&#123;{ x }}" in html
    assert "href" not in html  # left as text, never a link


def test_the_html_lines_of_jinja_tags_point_back_to_the_markdown_lines() -> None:
    converted = markdown_to_html("Intro\n\n\n\nBye {{ subscriber.nmae.upper() }}\n")
    line = converted.html.split("\n").index("<p>Bye {{ subscriber.nmae.upper() }}</p>") + 1
    assert converted.source_line(line) == 5


def test_only_leaving_html_or_rich_text_for_markdown_loses_formatting() -> None:
    assert switch_loses_formatting("html", "markdown")
    assert switch_loses_formatting("rich", "markdown")
    assert not switch_loses_formatting("markdown", "html")
    assert not switch_loses_formatting("rich", "html")


def test_tag_names_are_trimmed_and_deduplicated_ignoring_case() -> None:
    assert clean_tag_names(" promo , Promo,  spring  sale,,") == ["promo", "spring sale"]


@pytest.fixture
def server(db: None) -> SmtpServer:
    return SmtpServer.objects.create(name="Relay", host="127.0.0.1", port=2525, security="none")


def _markdown_campaign(server: SmtpServer, source: str, **extra: object) -> Campaign:
    return create_campaign(
        name="Spring",
        subject="Hello",
        from_email="News <news@example.com>",
        html="<p>ignored in Markdown mode</p>",
        editor=Campaign.Editor.MARKDOWN,
        source=source,
        lists=[],
        smtp_server=server,
        **extra,  # type: ignore[arg-type]
    )


def test_a_markdown_campaign_stores_its_source_and_sends_the_html_made_from_it(
    server: SmtpServer,
) -> None:
    campaign = _markdown_campaign(
        server, "**Hi** {{ subscriber.name }}", preheader="  Big\nnews  ", tags=["promo", "Q2"]
    )
    assert campaign.source == "**Hi** {{ subscriber.name }}"
    assert campaign.html == "<p><strong>Hi</strong> {{ subscriber.name }}</p>\n"
    assert campaign.preheader == "Big news"
    assert sorted(campaign.tags.values_list("name", flat=True)) == ["Q2", "promo"]


def test_tags_are_made_on_first_use_and_reused_ignoring_case(server: SmtpServer) -> None:
    first = _markdown_campaign(server, "One", tags=["Promo"])
    second = _markdown_campaign(server, "Two", tags=["promo", "new"])
    assert Tag.objects.count() == 2
    assert sorted(second.tags.values_list("name", flat=True)) == ["Promo", "new"]
    update_campaign(
        campaign=first,
        name=first.name,
        subject=first.subject,
        from_email=first.from_email,
        html=first.html,
        lists=[],
        smtp_server=server,
        tags=[],
    )
    assert not first.tags.exists()


def test_a_markdown_template_error_is_reported_on_the_markdown_line(server: SmtpServer) -> None:
    with pytest.raises(TemplateValidationError) as caught:
        _markdown_campaign(server, "Hello\n\n\n{{ subscriber.name | nosuchfilter }}\n")
    problem = caught.value.problems[0]
    assert (problem.field, problem.line) == ("source", 4)


def test_an_empty_markdown_body_is_reported_beside_the_markdown(server: SmtpServer) -> None:
    with pytest.raises(FieldAndTemplateErrors) as caught:
        _markdown_campaign(server, "   ")
    assert "source" in caught.value.message_dict


def test_an_unknown_editor_mode_is_refused(server: SmtpServer) -> None:
    with pytest.raises(ValidationError) as caught:
        create_campaign(
            name="x",
            subject="x",
            from_email="a@example.com",
            html="<p>x</p>",
            editor="word",
            lists=[],
            smtp_server=server,
        )
    assert "editor" in caught.value.message_dict


def test_switching_a_markdown_campaign_to_html_keeps_the_html_and_drops_the_source(
    server: SmtpServer,
) -> None:
    campaign = _markdown_campaign(server, "# Title")
    update_campaign(
        campaign=campaign,
        name=campaign.name,
        subject=campaign.subject,
        from_email=campaign.from_email,
        html="<h1>Title</h1>\n<p>More</p>",
        lists=[],
        smtp_server=server,
        editor=Campaign.Editor.HTML,
    )
    campaign.refresh_from_db()
    assert (campaign.editor, campaign.source) == ("html", "")
    assert campaign.html.endswith("<p>More</p>")


def test_a_copy_keeps_the_mode_source_preheader_tags_and_archive_choice(
    server: SmtpServer,
) -> None:
    original = _markdown_campaign(
        server, "# Hi", preheader="Soon", tags=["promo"], public_archive=True
    )
    copy = duplicate_campaign(campaign=original)
    assert (copy.editor, copy.source, copy.preheader, copy.public_archive) == (
        "markdown",
        "# Hi",
        "Soon",
        True,
    )
    assert list(copy.tags.values_list("name", flat=True)) == ["promo"]


def test_the_form_passes_the_new_fields_to_the_services(server: SmtpServer) -> None:
    news = MailingList.objects.create(name="News")
    form = CampaignForm(
        {
            "name": "Spring",
            "subject": "Hi",
            "preheader": "Inside: news",
            "tags": "promo, spring",
            "public_archive": "on",
            "editor": "markdown",
            "source": "*Hello*",
            "html": "",
            "from_email": "News <news@example.com>",
            "lists": [news.pk],
            "smtp_server": server.pk,
            "servers-TOTAL_FORMS": "0",
            "servers-INITIAL_FORMS": "0",
        }
    )
    assert form.is_valid(), form.errors
    campaign = create_campaign(**form.service_kwargs())
    assert (campaign.editor, campaign.html) == ("markdown", "<p><em>Hello</em></p>\n")
    assert campaign.public_archive
    again = CampaignForm.for_campaign(campaign)
    assert again.initial["tags"] == "promo, spring"
    assert again.initial["source"] == "*Hello*"
