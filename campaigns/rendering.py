"""Compile and render user-written message templates in a Jinja2 sandbox.

Templates are written by marketers, so they run in a ``SandboxedEnvironment``:
no attribute access to internals, no imports. HTML autoescapes; subject and
text do not. A campaign is compiled once per process (cached on its id and
``updated_at``), then rendered per recipient.
"""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from jinja2 import ChainableUndefined, TemplateError, TemplateSyntaxError, nodes
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from campaigns.css_inlining import inline_templates
from campaigns.html_to_text import html_to_text, tidy
from campaigns.text_part import collapse_value, derive_text_source

log = logging.getLogger(__name__)

LAYOUT_VARIABLE = "__postino_layout__"
PREHEADER_VARIABLE = "__postino_preheader__"
SAMPLE_SUBSCRIBER: Mapping[str, Any] = {
    "id": 0,
    "email": "subscriber@example.com",
    "name": "Sample Subscriber",
    "attributes": {},
}


@dataclass(frozen=True)
class TemplateProblem:
    field: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{self.field}: {where}{self.message}"


@dataclass
class TemplateValidationError(Exception):
    problems: list[TemplateProblem] = field(default_factory=list)

    def __str__(self) -> str:
        return "; ".join(str(p) for p in self.problems)


class FieldAndTemplateErrors(ValidationError):
    """Field errors and template problems found in one pass, raised together.

    A form or API client sees every problem at once instead of fixing one field
    per round. ``error_dict`` holds the field errors only; the template problems
    (with their lines) are in ``template_problems``.
    """

    def __init__(
        self, errors: dict[str, list[ValidationError]], problems: list[TemplateProblem]
    ) -> None:
        super().__init__(errors)
        self.template_problems = list(problems)


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    html: str
    text: str


def _make_env(*, autoescape: bool) -> SandboxedEnvironment:
    # ChainableUndefined: a missing attribute renders as empty instead of
    # failing mid-send (subscriber.attributes.city for a subscriber without one).
    env = SandboxedEnvironment(
        autoescape=autoescape, undefined=ChainableUndefined, keep_trailing_newline=True
    )
    return env


HTML_ENV = _make_env(autoescape=True)
TEXT_ENV = _make_env(autoescape=False)
# For text parts derived from the HTML template (campaigns.text_part).
DERIVED_TEXT_ENV = _make_env(autoescape=False)
DERIVED_TEXT_ENV.finalize = collapse_value
# Recipients whose derived text part is checked against their converted HTML,
# per compiled campaign (so per process), before it is trusted alone.
DERIVED_TEXT_CHECKS = 3
_SPACE_RUNS = re.compile(" {2,}")


def _compile(env: SandboxedEnvironment, source: str, field_name: str) -> Any:
    try:
        return env.from_string(source)
    except TemplateSyntaxError as exc:
        raise TemplateValidationError(
            [TemplateProblem(field_name, exc.lineno, exc.message or str(exc))]
        ) from exc


def _runtime_line(exc: BaseException) -> int | None:
    """Line of the user's template where a render-time error happened."""
    line = None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == "<template>":
            line = lineno
    return line


class CompiledCampaign:
    """The subject, HTML and optional text templates of one campaign, compiled."""

    def __init__(
        self,
        *,
        subject: str,
        html: str,
        text: str,
        layout: str | None,
        preheader: str = "",
        sample_check: bool = True,
    ) -> None:
        """``sample_check``: whether the derived text part must first read as
        the sample subscriber's converted HTML (False: only the first real
        renders check it, for templates whose variables the sample lacks)."""
        problems: list[TemplateProblem] = []
        self._layout = None
        self._subject = self._html = self._text = self._preheader = None
        if layout:
            try:
                self._layout = _compile(HTML_ENV, layout, "layout")
                if not _has_content_block(layout):
                    problems.append(
                        TemplateProblem(
                            "layout", None, "must contain {% block content %}{% endblock %}"
                        )
                    )
            except TemplateValidationError as exc:
                problems.extend(exc.problems)
        body = html
        for name, env, source in (
            ("subject", TEXT_ENV, subject),
            ("preheader", TEXT_ENV, preheader),
            ("html", HTML_ENV, _extending(html) if layout else html),
            ("text", TEXT_ENV, text),
        ):
            if name in ("text", "preheader") and not source.strip():
                continue
            try:
                setattr(self, f"_{name}", _compile(env, source, name))
            except TemplateValidationError as exc:
                problems.extend(exc.problems)
        if problems:
            raise TemplateValidationError(problems)
        # What is sent: the templates with their CSS inlined and the preheader's
        # place marked, compiled once here. The templates above, as written,
        # name the user's line when a render fails (see ``render``).
        self._sent_html, self._sent_layout = self._html, self._layout
        inlined = inline_templates(html=body, layout=layout, env=HTML_ENV)
        sent_body, sent_layout = inlined.html, inlined.layout
        if self._preheader is not None:
            sent_body, sent_layout = _mark_preheader(sent_body, sent_layout)
        if inlined.inlined or self._preheader is not None:
            try:
                self._sent_layout = HTML_ENV.from_string(sent_layout) if sent_layout else None
                self._sent_html = HTML_ENV.from_string(
                    _extending(sent_body) if sent_layout else sent_body
                )
            except TemplateSyntaxError:
                # Not expected (the tags are the user's, checked above); send as written.
                log.warning("inlined templates do not compile; sent as written", exc_info=True)
                self._sent_html, self._sent_layout = self._html, self._layout
        self._derived_text: Any = None
        self._derived_layout: Any = None
        self._checks_left = 0
        if self._text is None:
            self._derive_text(_extending(html) if layout else html, layout, sample_check)

    def _derive_text(self, html: str, layout: str | None, sample_check: bool) -> None:
        """A text template from the HTML one, trusted once it reads as the
        sample subscriber's converted HTML does (see campaigns.text_part)."""
        body = derive_text_source(html, HTML_ENV)
        frame = derive_text_source(layout, HTML_ENV) if layout else None
        if body is None or (layout and frame is None):
            return
        try:
            self._derived_text = DERIVED_TEXT_ENV.from_string(body)
            self._derived_layout = DERIVED_TEXT_ENV.from_string(frame) if frame else None
        except TemplateError:
            log.debug("derived text part does not compile; not used", exc_info=True)
            self._derived_text = None
            return
        if not sample_check:
            self._checks_left = DERIVED_TEXT_CHECKS
            return
        self._checks_left = 1
        sample = sample_context(campaign_name="Sample", campaign_subject="Sample")
        with contextlib.suppress(TemplateValidationError):
            # A template may fail for the sample subscriber and suit real
            # members (validate_templates warns); their renders check it then.
            self.render(sample)
        self._checks_left = DERIVED_TEXT_CHECKS if self._derived_text is not None else 0

    def _text_of(self, html: str, ctx: dict[str, Any]) -> str:
        if self._derived_text is None:
            return html_to_text(html)
        if self._derived_layout is not None:
            ctx = {**ctx, LAYOUT_VARIABLE: self._derived_layout}
        try:
            derived = self._derived_text.render(ctx)
        except Exception:  # never fail a recipient the HTML rendered for
            log.info("derived text part failed to render; not used", exc_info=True)
            self._derived_text = None
            return html_to_text(html)
        # A value's own spaces next to the template's: one space, as in its HTML.
        text = tidy(_SPACE_RUNS.sub(" ", derived))
        if self._checks_left > 0:
            self._checks_left -= 1
            converted = html_to_text(html)
            if text.split() != converted.split():
                log.info("derived text part differs from the converted HTML; not used")
                self._derived_text = None
                self._checks_left = 0
                return converted
        return text

    def render(self, context: Mapping[str, Any]) -> RenderedMessage:
        """Render for one recipient. Raises TemplateValidationError on runtime errors."""
        assert self._subject is not None and self._html is not None
        ctx = dict(context)
        subject = self._render_part("subject", self._subject, ctx)
        hidden = Markup()
        if self._preheader is not None:
            preview = " ".join(self._render_part("preheader", self._preheader, ctx).split())
            hidden = preheader_element(preview)
            ctx[PREHEADER_VARIABLE] = hidden
        if self._sent_layout is not None:
            ctx[LAYOUT_VARIABLE] = self._sent_layout
        try:
            html = self._sent_html.render(ctx)
        except TemplateError as exc:
            # The user's templates as written say on which of their lines.
            if self._layout is not None:
                ctx[LAYOUT_VARIABLE] = self._layout
            self._render_part("html", self._html, ctx)
            raise TemplateValidationError(
                [TemplateProblem("html", None, exc.message or str(exc))]
            ) from exc
        if self._text is not None:
            text = self._render_part("text", self._text, ctx)
        else:
            # The preview text is for the inbox list, not for the text part.
            text = self._text_of(html.replace(hidden, "", 1) if hidden else html, ctx)
        # A subject is one header line: newlines would allow header injection.
        subject = " ".join(subject.split())
        return RenderedMessage(subject=subject, html=html, text=text)

    @staticmethod
    def _render_part(name: str, template: Any, ctx: dict[str, Any]) -> str:
        try:
            return str(template.render(ctx))
        except TemplateError as exc:
            raise TemplateValidationError(
                [TemplateProblem(name, _runtime_line(exc), exc.message or str(exc))]
            ) from exc


def _extending(html: str) -> str:
    # Same line as the body: error line numbers stay the user's.
    return "{% extends " + LAYOUT_VARIABLE + " %}{% block content %}" + html + "{% endblock %}"


# Inbox clients show the first text of a message after its subject; the spacers
# (zero-width non-joiners and non-breaking spaces) keep the body's first words
# from trailing after a short preheader.
_PREHEADER = Markup(
    '<div style="display:none;font-size:1px;color:transparent;line-height:1px;max-height:0;'
    'max-width:0;opacity:0;overflow:hidden;mso-hide:all">{}'
    "&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;"
    "&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;"
    "&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;&#847;&zwnj;&nbsp;"
    "</div>"
)
_PREHEADER_OPEN, _PREHEADER_CLOSE = (Markup(part) for part in _PREHEADER.split("{}"))  # noqa: S704
_BODY_TAG = re.compile(r"<body\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.IGNORECASE)


def preheader_element(preview: str) -> Markup:
    """The hidden element carrying a message's preview text."""
    # Split once at the slot and escaped by concatenation: Markup.format's
    # escaping formatter costs several times more, on every message.
    return _PREHEADER_OPEN + preview + _PREHEADER_CLOSE


def _mark_preheader(body: str, layout: str | None) -> tuple[str, str | None]:
    """The templates with the preheader's variable right after ``<body>``: the
    layout's, else the body's own, else first in the body."""
    mark = "{{ " + PREHEADER_VARIABLE + " }}"
    for source in (layout, body):
        if source and (match := _BODY_TAG.search(source)):
            marked = source[: match.end()] + mark + source[match.end() :]
            return (body, marked) if source is layout else (marked, layout)
    return mark + body, layout


def _has_content_block(layout: str) -> bool:
    ast = HTML_ENV.parse(layout)
    return any(block.name == "content" for block in ast.find_all(nodes.Block))


@dataclass(frozen=True)
class TemplateWarning:
    """A template that compiles but does not suit every sampled member's data."""

    message: str

    def __str__(self) -> str:
        return self.message


class _NoticingAttributes(dict[str, Any]):
    """A subscriber's attributes that remember which missing keys a template asked for.

    Jinja looks an attribute up as ``obj.key`` then ``obj[key]``; a miss lands in
    ``__missing__`` and still renders as undefined, as for a plain dict.
    """

    def __init__(self, values: Mapping[str, Any] | None) -> None:
        super().__init__(values or {})
        self.missing: set[str] = set()

    def __missing__(self, key: str) -> Any:
        self.missing.add(key)
        raise KeyError(key)


def _names(keys: set[str]) -> str:
    return ", ".join(f"`{key}`" for key in sorted(keys))


def validate_templates(
    *,
    subject: str,
    html: str,
    text: str = "",
    layout: str | None = None,
    members: Sequence[Mapping[str, Any]] = (),
) -> list[TemplateWarning]:
    """Compile, then trial-render for the sample subscriber and for real ``members``.

    Refused (``TemplateValidationError`` with field, line and message): syntax
    errors, unknown filters and tests, sandbox violations, and any render error
    of the sample subscriber that is not about a missing attribute (an
    undefined variable called, a misspelt ``subscriber.nmae.upper()``), or one
    that every sampled member hits.

    Returned as warnings, not refused: what depends on members' data. A
    template may rightly use ``subscriber.attributes.city.upper()`` when real
    members have a city; the sample subscriber has no attributes. ``members``
    is a bounded sample of the audience (``subscriber`` dicts as templates see
    them); members it fails for would have that row fail at send time
    (``delivery.pipeline.chunk``), so the warning says how many of the sample would.
    """
    compiled = CompiledCampaign(subject=subject, html=html, text=text, layout=layout)
    warnings: list[TemplateWarning] = []
    failures: dict[TemplateProblem, int] = {}
    missing: dict[str, int] = {}
    for member in members:
        attributes = _NoticingAttributes(member.get("attributes"))
        context = subscriber_context(
            {**member, "attributes": attributes}, campaign_name="Sample", campaign_subject=subject
        )
        try:
            compiled.render(context)
        except TemplateValidationError as exc:
            problem = _problem_for(compiled, member, subject, exc.problems[0])
            failures[problem] = failures.get(problem, 0) + 1
            continue
        # Rendered, but with a blank where an attribute was asked for.
        for key in attributes.missing:
            missing[key] = missing.get(key, 0) + 1
    sampled = len(members)
    failed = sum(failures.values())
    if sampled and failed == sampled:
        # Nobody in the sample could receive it: that is the template, not the data.
        most_common = max(failures, key=lambda problem: failures[problem])
        raise TemplateValidationError([most_common])
    for problem, count in failures.items():
        warnings.append(
            TemplateWarning(
                f"{count} of {sampled} sampled members would not receive this campaign "
                f"({problem}); guard the value with {{% if %}} or | default(…)."
            )
        )
    for key, count in sorted(missing.items()):
        warnings.append(
            TemplateWarning(
                f"{count} of {sampled} sampled members have no {_names({key})} attribute; "
                "for them it is empty."
            )
        )
    sample_attributes = _NoticingAttributes(SAMPLE_SUBSCRIBER["attributes"])
    sample = subscriber_context(
        {**SAMPLE_SUBSCRIBER, "attributes": sample_attributes},
        campaign_name="Sample",
        campaign_subject=subject,
    )
    try:
        compiled.render(sample)
    except TemplateValidationError:
        if not sample_attributes.missing:
            raise
        if not sampled:
            warnings.append(
                TemplateWarning(
                    f"Not checked against real members (the lists have none yet): the "
                    f"template needs the {_names(sample_attributes.missing)} attribute, "
                    "and members without it would not receive this campaign."
                )
            )
    return warnings


def _problem_for(
    compiled: CompiledCampaign, member: Mapping[str, Any], subject: str, seen: TemplateProblem
) -> TemplateProblem:
    """The problem exactly as the send would record it: rendered with the plain data
    (the message names the data's own type, not ``_NoticingAttributes``)."""
    context = subscriber_context(member, campaign_name="Sample", campaign_subject=subject)
    try:
        compiled.render(context)
    except TemplateValidationError as exc:
        return exc.problems[0]
    return seen  # a template with | random may fail only sometimes


def subscriber_context(
    subscriber: Mapping[str, Any], *, campaign_name: str, campaign_subject: str
) -> dict[str, Any]:
    """The variables a template sees, for a ``subscriber`` dict, with placeholder links."""
    return {
        "subscriber": dict(subscriber),
        "campaign": {"id": 0, "name": campaign_name, "subject": campaign_subject},
        "unsubscribe_url": "https://example.com/unsubscribe",
        "preferences_url": "https://example.com/preferences",
        "webview_url": "https://example.com/view",
    }


def sample_context(*, campaign_name: str, campaign_subject: str) -> dict[str, Any]:
    """The one sample subscriber, as the preview and a test send to a non-member see it."""
    # A fresh attributes dict each time: nothing one render does can reach the next.
    sample = {**SAMPLE_SUBSCRIBER, "attributes": dict(SAMPLE_SUBSCRIBER["attributes"])}
    return subscriber_context(
        sample, campaign_name=campaign_name, campaign_subject=campaign_subject
    )


@lru_cache(maxsize=64)
def _compiled(
    campaign_id: int,
    version: str,
    subject: str,
    html: str,
    text: str,
    layout: str | None,
    preheader: str = "",
) -> CompiledCampaign:
    del campaign_id, version  # part of the cache key only
    return CompiledCampaign(
        subject=subject, html=html, text=text, layout=layout, preheader=preheader
    )


def compiled_for(campaign: Any) -> CompiledCampaign:
    """The compiled templates of a campaign, compiled (and their CSS inlined) once per
    process per version, then rendered per recipient."""
    layout = campaign.template.html if campaign.template_id else None
    version = f"{campaign.updated_at.isoformat()}:{campaign.template_id}"
    if campaign.template_id:
        version += ":" + campaign.template.updated_at.isoformat()
    return _compiled(
        campaign.pk,
        version,
        campaign.subject,
        campaign.html,
        campaign.text,
        layout,
        getattr(campaign, "preheader", ""),
    )
