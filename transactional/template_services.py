"""Writes behind the Transactional pages: templates and categories (credentials: ``credentials``).

Each function checks everything it is given and raises once: a
``FieldAndTemplateErrors`` carries the field errors with the template
problems (their lines) beside them, so a form shows every mistake in one
round. A template is only saved when ``rendering.check_template`` renders it
with its own sample data: what the preview shows is what an application's
send with that data would get.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict, Unpack

from django.core.exceptions import ValidationError

from campaigns.rendering import FieldAndTemplateErrors, TemplateProblem, TemplateValidationError
from campaigns.services import validate_from_address
from transactional.models import Category, TxTemplate
from transactional.rendering import check_template
from transactional.services import check_category_name

Errors = dict[str, list[ValidationError]]


def _collect(errors: Errors, exc: ValidationError) -> None:
    exc.update_error_dict(errors)


def _raise(errors: Errors, problems: list[TemplateProblem]) -> None:
    if errors:
        raise FieldAndTemplateErrors(errors, problems)
    if problems:
        raise TemplateValidationError(problems)


# --- templates ------------------------------------------------------------------


def _validate_template(
    *,
    instance: TxTemplate | None,
    name: str,
    subject: str,
    html: str,
    text: str,
    sample_data: Mapping[str, Any],
    from_email: str,
    reply_to: str,
) -> dict[str, Any]:
    errors: Errors = {}
    name = name.strip()
    if not name:
        _collect(errors, ValidationError({"name": "A template needs a name."}))
    else:
        others = TxTemplate.objects.filter(name=name)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            _collect(errors, ValidationError({"name": f"A template named {name!r} exists."}))
    if not subject.strip():
        _collect(errors, ValidationError({"subject": "A template needs a subject."}))
    if not html.strip():
        _collect(errors, ValidationError({"html": "A template needs an HTML part."}))
    # The API may hand a list or a string where the form always has an object.
    if not isinstance(sample_data, Mapping):
        _collect(errors, ValidationError({"sample_data": "Sample data must be a JSON object."}))
        sample_data = {}
    for field, value in (("from_email", from_email), ("reply_to", reply_to)):
        if value.strip():
            try:
                validate_from_address(value, field)
            except ValidationError as exc:
                _collect(errors, exc)
    problems: list[TemplateProblem] = []
    if subject.strip() and html.strip():
        try:
            check_template(subject=subject, html=html, text=text, sample_data=sample_data)
        except TemplateValidationError as exc:
            problems = exc.problems
    _raise(errors, problems)
    return {
        "name": name,
        "subject": subject,
        "html": html,
        "text": text,
        "sample_data": dict(sample_data),
        "from_email": from_email.strip(),
        "reply_to": reply_to.strip(),
    }


class TemplateFields(TypedDict):
    """What a template is made of, as the create and update services take it."""

    name: str
    subject: str
    html: str
    sample_data: Mapping[str, Any]
    text: NotRequired[str]
    description: NotRequired[str]
    from_email: NotRequired[str]
    reply_to: NotRequired[str]
    category: NotRequired[Category | None]
    track_opens: NotRequired[bool]
    track_clicks: NotRequired[bool]


def _checked(instance: TxTemplate | None, given: TemplateFields) -> dict[str, Any]:
    fields = _validate_template(
        instance=instance,
        name=given["name"],
        subject=given["subject"],
        html=given["html"],
        text=given.get("text", ""),
        sample_data=given["sample_data"],
        from_email=given.get("from_email", ""),
        reply_to=given.get("reply_to", ""),
    )
    fields["description"] = given.get("description", "").strip()
    fields["category"] = given.get("category")
    fields["track_opens"] = bool(given.get("track_opens", False))
    fields["track_clicks"] = bool(given.get("track_clicks", False))
    return fields


def create_template(**given: Unpack[TemplateFields]) -> TxTemplate:
    return TxTemplate.objects.create(**_checked(None, given))


def update_template(*, template: TxTemplate, **given: Unpack[TemplateFields]) -> TxTemplate:
    for key, value in _checked(template, given).items():
        setattr(template, key, value)
    # updated_at changes with the save, which is what makes the worker's
    # compiled-template cache (rendering.compiled_for) compile the new version.
    template.save()
    return template


def delete_template(*, template: TxTemplate) -> None:
    """Its messages stay in the log (their template becomes empty), subject and all."""
    template.delete()


# --- categories -----------------------------------------------------------------


def _validate_category(
    *, instance: Category | None, name: str, marketing: bool, exempt_from_unsubscribes: bool
) -> str:
    errors: Errors = {}
    name = name.strip().lower()
    rule = check_category_name(name)
    if rule:
        _collect(errors, ValidationError({"name": rule}))
    else:
        others = Category.objects.filter(name=name)
        if instance is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            _collect(errors, ValidationError({"name": f"A category named {name!r} exists."}))
    # The same rule as the model's CheckConstraint, said where the form can show it.
    if marketing and exempt_from_unsubscribes:
        _collect(
            errors,
            ValidationError(
                {
                    "exempt_from_unsubscribes": (
                        "Marketing mail always honours unsubscribes: "
                        "a category cannot be both marketing and exempt."
                    )
                }
            ),
        )
    _raise(errors, [])
    return name


def create_category(
    *,
    name: str,
    description: str = "",
    marketing: bool = False,
    exempt_from_unsubscribes: bool = False,
) -> Category:
    slug = _validate_category(
        instance=None,
        name=name,
        marketing=marketing,
        exempt_from_unsubscribes=exempt_from_unsubscribes,
    )
    return Category.objects.create(
        name=slug,
        description=description.strip(),
        marketing=marketing,
        exempt_from_unsubscribes=exempt_from_unsubscribes,
    )


def update_category(
    *,
    category: Category,
    name: str,
    description: str = "",
    marketing: bool = False,
    exempt_from_unsubscribes: bool = False,
) -> Category:
    category.name = _validate_category(
        instance=category,
        name=name,
        marketing=marketing,
        exempt_from_unsubscribes=exempt_from_unsubscribes,
    )
    category.description = description.strip()
    category.marketing = marketing
    category.exempt_from_unsubscribes = exempt_from_unsubscribes
    category.save()
    return category


def delete_category(*, category: Category) -> None:
    """Templates, credentials and logged messages keep going without a category."""
    category.delete()
