"""A list's double opt-in email: the context its template sees, the check on
save, and the rendering (the list's own wording, or Postino's)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from jinja2 import Template, TemplateError, TemplateSyntaxError

from campaigns.html_to_text import html_to_text
from campaigns.rendering import HTML_ENV, TEXT_ENV
from subscribers.models import Subscription


def template_context(
    *,
    email: str,
    name: str,
    attributes: dict[str, Any],
    list_name: str,
    description: str,
    url: str,
    reminder: bool,
) -> dict[str, Any]:
    """What a list's own confirmation template sees: plain values, no models."""
    return {
        "subscriber": {"email": email, "name": name, "attributes": attributes},
        "list": {"name": list_name, "description": description},
        "confirm_url": url,
        "reminder": reminder,
    }


# Stands in for the link when a list's template is checked: it must come out.
_SAMPLE_URL = "https://postino.invalid/s/confirm/sample-token/"


def check_template(*, subject: str, html: str) -> None:
    """Refuse a list's confirmation email that would fail or leave nobody a way
    to confirm: every problem with its line, raised once (ValidationError)."""
    problems: dict[str, list[str]] = {}
    context = template_context(
        email="ada@example.com",
        name="Ada",
        attributes={},
        list_name="Sample list",
        description="",
        url=_SAMPLE_URL,
        reminder=False,
    )
    for field_name, source, env in (
        ("confirmation_subject", subject, TEXT_ENV),
        ("confirmation_html", html, HTML_ENV),
    ):
        if not source.strip():
            continue
        try:
            rendered = env.from_string(source).render(context)
        except TemplateSyntaxError as exc:
            problems[field_name] = [f"Line {exc.lineno}: {exc.message or exc}"]
            continue
        except TemplateError as exc:
            problems[field_name] = [f"{exc.__class__.__name__}: {exc}"]
            continue
        if field_name == "confirmation_html" and _SAMPLE_URL not in rendered:
            problems[field_name] = [
                "The email must contain {{ confirm_url }} (a link or the address itself): "
                "without it nobody can confirm."
            ]
    if problems:
        raise ValidationError(problems)


@lru_cache(maxsize=64)
def _compiled(source: str, *, html: bool) -> Template:
    # A batch of confirmations shares its lists' templates: compile each once
    # per process, not once per email. Saved templates were checked on save.
    return (HTML_ENV if html else TEXT_ENV).from_string(source)


def render(subscription: Subscription, url: str, *, reminder: bool) -> tuple[str, str, str]:
    """Subject, HTML and text of the email, from the list's template or ours."""
    subscriber = subscription.subscriber
    mailing_list = subscription.mailing_list
    default_subject = f"Confirm your subscription to {mailing_list.name}"
    if reminder:
        default_subject = f"Reminder: {default_subject[0].lower()}{default_subject[1:]}"
    context = template_context(
        email=subscriber.email,
        name=subscriber.name,
        attributes=dict(subscriber.attributes or {}),
        list_name=mailing_list.name,
        description=mailing_list.description,
        url=url,
        reminder=reminder,
    )
    subject = default_subject
    if mailing_list.confirmation_subject.strip():
        subject = (
            " ".join(
                _compiled(mailing_list.confirmation_subject, html=False).render(context).split()
            )
            or default_subject
        )
    if mailing_list.confirmation_html.strip():
        html = _compiled(mailing_list.confirmation_html, html=True).render(context)
        return subject, html, html_to_text(html)
    ours = {
        "subscriber": subscriber,
        "list": mailing_list,
        "confirm_url": url,
        "reminder": reminder,
    }
    return (
        subject,
        render_to_string("public/email/confirmation.html", ours),
        render_to_string("public/email/confirmation.txt", ours),
    )
