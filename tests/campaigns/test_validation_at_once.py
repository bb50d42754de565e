"""create_campaign and update_campaign report every problem in one raise."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.rendering import FieldAndTemplateErrors, TemplateValidationError
from campaigns.services import create_campaign, update_campaign
from tests.support.factories import make_campaign

pytestmark = pytest.mark.django_db

BROKEN: dict[str, Any] = {
    "name": " ",
    "subject": "",
    "from_email": "nobody",
    "reply_to": "not an address",
    "html": "<p>\n{{ subscriber.name }\n</p>",
}


def test_every_field_problem_and_the_template_line_come_together() -> None:
    with pytest.raises(FieldAndTemplateErrors) as caught:
        create_campaign(**BROKEN, lists=[], smtp_server=None)
    errors = caught.value.message_dict
    assert set(errors) == {"name", "subject", "from_email", "reply_to"}
    [problem] = caught.value.template_problems
    assert (problem.field, problem.line) == ("html", 2)


def test_routing_problems_join_the_others() -> None:
    with pytest.raises(FieldAndTemplateErrors) as caught:
        create_campaign(
            **{**BROKEN, "html": "<p>Hi</p>"}, lists=[], smtp_server=None, smtp_weight=0
        )
    assert {"from_email", "reply_to", "smtp_weight"} <= set(caught.value.message_dict)
    assert caught.value.template_problems == []


def test_only_a_template_problem_is_still_a_template_error() -> None:
    with pytest.raises(TemplateValidationError) as caught:
        create_campaign(
            name="x",
            subject="Hi",
            from_email="a@example.com",
            html="{% if %}",
            lists=[],
            smtp_server=None,
        )
    assert caught.value.problems[0].field == "html"


def test_an_edit_is_checked_the_same_way() -> None:
    campaign = make_campaign(lists=[], server=None)
    with pytest.raises(FieldAndTemplateErrors) as caught:
        update_campaign(campaign=campaign, **BROKEN, lists=[], smtp_server=None)
    assert set(caught.value.message_dict) == {"name", "subject", "from_email", "reply_to"}
    assert caught.value.template_problems[0].line == 2
    campaign.refresh_from_db()
    assert campaign.name == "Spring news"
