"""The live preview of a campaign being edited: render what the form holds now.

Reads only. Nothing is saved, queued or sent, and no ledger row is written:
the editor posts its current fields as the author types (static/js/live_preview.js)
and gets back the rendered subject, HTML and text parts, the template problems
with their lines, and the variables the template sees with their values.

The checks are the ones saving makes (``validate_templates`` with the lists'
newest members), so an error shown here is the error saving would give, on the
line the author wrote (in Markdown mode, the Markdown's line).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import ValidationError

from campaigns.editor import body_for
from campaigns.models import Campaign, Template
from campaigns.personalize import build_context, subscriber_links
from campaigns.rendering import (
    CompiledCampaign,
    TemplateProblem,
    TemplateValidationError,
    sample_context,
    subscriber_context,
    validate_templates,
)
from campaigns.selectors import template_check_members
from subscribers.models import MailingList, Subscriber
from subscribers.services import normalize_email

# Long values (a signed link, a long attribute) are cut in the reference.
VARIABLE_VALUE_MAX = 200


@dataclass(frozen=True)
class LivePreview:
    subject: str
    preheader: str
    html: str
    text: str
    # The HTML the body is sent as: in Markdown mode, made from the Markdown
    # (the editor switches to HTML or rich text with exactly this).
    body_html: str
    problems: list[TemplateProblem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    variables: list[tuple[str, str]] = field(default_factory=list)
    subscriber: Subscriber | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": not self.problems,
            "subject": self.subject,
            "preheader": self.preheader,
            "html": self.html,
            "text": self.text,
            "body_html": self.body_html,
            "errors": [
                {"field": p.field, "line": p.line, "message": p.message} for p in self.problems
            ],
            "warnings": self.warnings,
            "variables": [{"name": name, "value": value} for name, value in self.variables],
            "subscriber": (
                None
                if self.subscriber is None
                else {
                    "id": self.subscriber.pk,
                    "email": self.subscriber.email,
                    "name": self.subscriber.name,
                }
            ),
        }


def find_preview_subscriber(*, email: str = "", subscriber_id: int | None = None) -> Subscriber:
    """The subscriber to preview as, by address or id; ValidationError if none."""
    if email.strip():
        address = normalize_email(email)  # raises ValidationError on a bad address
        found = Subscriber.objects.filter(email=address).first()
        if found is None:
            raise ValidationError({"email": f"No subscriber with the address {address}."})
        return found
    found = Subscriber.objects.filter(pk=subscriber_id).first() if subscriber_id else None
    if found is None:
        raise ValidationError({"subscriber": "That subscriber no longer exists."})
    return found


def live_preview(
    *,
    subject: str,
    preheader: str,
    editor: str,
    source: str,
    html: str,
    text: str,
    layout: Template | None,
    campaign: Campaign | None,
    subscriber: Subscriber | None,
    lists: Iterable[MailingList] = (),
) -> LivePreview:
    """Render the given fields for ``subscriber`` (None: the sample subscriber)."""
    body = body_for(editor=editor, html=html, source=source)
    context = _context(campaign, subscriber, subject=subject)
    # Nothing rendered yet: what an empty body or a template error answers.
    empty = LivePreview(
        subject="",
        preheader=preheader,
        html="",
        text="",
        body_html=body.html,
        variables=template_variables(context),
        subscriber=subscriber,
    )
    if not body.html.strip():
        return empty
    layout_html = layout.html if layout else None
    try:
        warnings = validate_templates(
            subject=subject,
            html=body.html,
            text=text,
            layout=layout_html,
            members=template_check_members(lists),
        )
        # Compiled afresh, not through compiled_for: these fields are unsaved.
        compiled = CompiledCampaign(
            subject=subject, html=body.html, text=text, layout=layout_html, preheader=preheader
        )
        rendered = compiled.render(context)
    except TemplateValidationError as exc:
        problems = body.problems_in_source(exc.problems)
        return replace(empty, problems=problems)
    return replace(
        empty,
        subject=rendered.subject,
        html=rendered.html,
        text=rendered.text,
        warnings=[str(w) for w in warnings],
    )


def _context(
    campaign: Campaign | None, subscriber: Subscriber | None, *, subject: str
) -> dict[str, Any]:
    name = campaign.name if campaign else "New campaign"
    if subscriber is None:
        return sample_context(campaign_name=name, campaign_subject=subject)
    if campaign is not None:
        context = build_context(campaign, subscriber)
        # The subject being typed, not the saved one.
        context["campaign"] = {**context["campaign"], "subject": subject}
        return context
    # A campaign not saved yet has no id for its links: they are signed
    # without one, as a test send's are.
    context = subscriber_context(
        {
            "id": subscriber.pk,
            "email": subscriber.email,
            "name": subscriber.name,
            "attributes": subscriber.attributes or {},
        },
        campaign_name=name,
        campaign_subject=subject,
    )
    links = subscriber_links(subscriber_id=subscriber.pk, campaign_id=None)
    context.update(
        {key: links[key] for key in ("unsubscribe_url", "preferences_url", "webview_url")}
    )
    return context


def template_variables(context: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Every variable a template can write, dotted (``subscriber.attributes.city``),
    with its value as text, for the editor's reference."""
    found: list[tuple[str, str]] = []
    for key, value in context.items():
        if key.startswith("__"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.extend(template_variables(value, f"{name}."))
            if not value:
                found.append((name, "(none)"))
            continue
        shown = "" if value is None else str(value)
        if len(shown) > VARIABLE_VALUE_MAX:
            shown = shown[: VARIABLE_VALUE_MAX - 1] + "…"
        found.append((name, shown))
    return found
