"""Segments: what each condition matches, on PostgreSQL and on SQLite alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError

from subscribers.segments import definition, selectors, services
from tests.subscribers import segment_cases

BASE_DIR = Path(django_settings.BASE_DIR)


@pytest.fixture
def list_ids(db: None) -> dict[str, int]:
    return segment_cases.populate()


def test_each_condition_matches_exactly_its_people(list_ids: dict[str, int]) -> None:
    found = segment_cases.evaluate(list_ids)
    expected = {label: sorted(emails) for label, _, emails in segment_cases.cases(list_ids)}
    assert found == expected


def test_sqlite_gives_the_same_answers(tmp_path: Path) -> None:
    """``make run`` runs on SQLite, whose JSON functions differ from PostgreSQL's."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(POSTINO_VAR_DIR=str(tmp_path), DEBUG="true")

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run("manage.py", "migrate", "--verbosity", "0")
    found = json.loads(run("tests/subscribers/segment_cases.py").strip().splitlines()[-1])
    # Lists are the first two rows of a fresh database on both sides.
    ids = {"news": 1, "promo": 2}
    expected = {label: sorted(emails) for label, _, emails in segment_cases.cases(ids)}
    assert found == expected


@pytest.mark.parametrize(
    ("raw", "place", "message"),
    [
        ({"conditions": []}, "conditions", "Add at least one condition."),
        (
            {"match": "most", "conditions": [{"field": "email", "op": "eq", "value": "a"}]},
            "match",
            'Use "all" (every condition) or "any" (at least one).',
        ),
        (
            {"conditions": [{"field": "shoe", "op": "eq", "value": 1}]},
            "conditions.1.field",
            "Unknown field 'shoe'; choose one of: email, domain, name, attributes.<key>, list, "
            "status, subscribed_at, created_at, received, opened, clicked.",
        ),
        (
            {"conditions": [{"field": "email", "op": "gt", "value": "a"}]},
            "conditions.1.op",
            "'email' takes one of: eq, neq, contains, not_contains, in, not_in (not 'gt').",
        ),
        (
            {"conditions": [{"field": "attributes.age", "op": "gt", "value": True}]},
            "conditions.1.value",
            "'gt' compares with a number, or with text such as a date.",
        ),
        (
            {
                "conditions": [
                    {"field": "email", "op": "eq", "value": "a"},
                    {
                        "match": "any",
                        "conditions": [{"field": "list", "op": "eq", "value": "news"}],
                    },
                ]
            },
            "conditions.2.conditions.1.value",
            "Give a list id, or a list of list ids.",
        ),
        (
            {"conditions": [{"field": "subscribed_at", "op": "gt", "value": "last tuesday"}]},
            "conditions.1.value",
            "Give a date (2026-01-31), a date and time with its zone, or a number of days ago.",
        ),
        (
            {"conditions": [{"field": "opened", "op": "in_last_days", "value": 0}]},
            "conditions.1.value",
            "Give a number of days from 1 to 36500.",
        ),
        (
            {"conditions": [{"field": "attributes.", "op": "set"}]},
            "conditions.1.field",
            "Name the attribute after 'attributes.' (up to 64 characters, no quotes).",
        ),
        (
            {"conditions": [{"field": "email", "op": "in", "value": []}]},
            "conditions.1.value",
            "'in' takes a non-empty list of values.",
        ),
    ],
)
def test_a_bad_definition_names_the_condition_and_the_problem(
    raw: dict[str, object], place: str, message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        definition.parse(raw)
    assert caught.value.message_dict[place] == [message]


def test_values_that_look_like_sql_are_only_ever_values(list_ids: dict[str, int]) -> None:
    hostile = "x' OR 1=1; DROP TABLE subscribers_subscriber; --"
    for field in ("email", "name", "attributes.city", "attributes.x' OR '1'='1"):
        group = definition.parse({"conditions": [{"field": field, "op": "eq", "value": hostile}]})
        assert selectors.count_group(group) == 0
    assert selectors.count_group(
        definition.parse({"conditions": [{"field": "email", "op": "contains", "value": "@"}]})
    ) == len(segment_cases.PEOPLE)


def test_an_unknown_list_is_refused_by_id(db: None) -> None:
    with pytest.raises(ValidationError) as caught:
        services.check_definition({"conditions": [{"field": "list", "op": "in", "value": [404]}]})
    assert caught.value.message_dict == {"conditions": ["No list with id 404."]}


def test_the_summary_reads_as_words(list_ids: dict[str, int]) -> None:
    group = definition.parse(
        {
            "match": "all",
            "conditions": [
                {"field": "attributes.city", "op": "eq", "value": "Berlin"},
                {
                    "match": "any",
                    "conditions": [
                        {"field": "list", "op": "eq", "value": list_ids["news"]},
                        {"field": "subscribed_at", "op": "gt", "value": 30},
                    ],
                },
            ],
        }
    )
    assert definition.describe(group, selectors.list_names()) == (
        "city is Berlin and (on list news or subscribed in the last 30 days)"
    )
