"""Transactional templates: the campaign sandbox, with the send's ``data`` as variables.

A template is compiled exactly as a campaign is (``campaigns.rendering``:
the Jinja2 sandbox, autoescaped HTML, CSS inlined, a text part derived from
the HTML when none is written), then rendered with every key of ``data`` as a
variable of its own, ``data`` itself, ``recipient`` (email, name) and, for a
subscriber, ``subscriber``.

One rule is stricter than a campaign's: every variable a template names must
be in ``data`` (``null`` is fine). A missing attribute of one subscriber
among thousands renders blank in a newsletter; a password reset without its
``reset_url`` must be refused when the application sends it, naming what is
missing, not delivered with a blank link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError, meta

from campaigns.rendering import (
    HTML_ENV,
    TEXT_ENV,
    CompiledCampaign,
    RenderedMessage,
    TemplateProblem,
    TemplateValidationError,
)

# Names the context always has, whatever ``data`` holds.
BUILT_IN = frozenset({"data", "recipient", "subscriber"})
SAMPLE_RECIPIENT = {"email": "recipient@example.com", "name": "Sample Recipient"}


def _names(source: str, env: Any) -> set[str]:
    try:
        return set(meta.find_undeclared_variables(env.parse(source)))
    except TemplateSyntaxError:
        return set()  # reported by the compile, with its line


@dataclass(frozen=True)
class CompiledTemplate:
    compiled: CompiledCampaign
    # The variables the template reads that ``data`` must give.
    needs: frozenset[str]

    def missing(self, data: Mapping[str, Any]) -> list[str]:
        return sorted(name for name in self.needs if name not in data)

    def render(
        self,
        data: Mapping[str, Any],
        *,
        recipient: Mapping[str, Any],
        subscriber: Mapping[str, Any] | None = None,
    ) -> RenderedMessage:
        """Render for one recipient; ``TemplateValidationError`` names the
        missing variables or the line that failed."""
        missing = self.missing(data)
        if missing:
            raise TemplateValidationError([missing_problem(missing)])
        context = {
            **data,
            "data": dict(data),
            "recipient": dict(recipient),
            "subscriber": dict(subscriber or {}),
        }
        return self.compiled.render(context)


def missing_problem(names: list[str]) -> TemplateProblem:
    listed = ", ".join(names)
    return TemplateProblem(
        "data", None, f"the template uses {listed}, which data does not give (null is fine)"
    )


def compile_parts(*, subject: str, html: str, text: str = "") -> CompiledTemplate:
    """Compile a template; ``TemplateValidationError`` with each problem's line."""
    # The campaign sample has none of the variables a template reads from
    # ``data``: empty, a link converts differently ("Reset ()"), which would
    # rule the derived text part out for every template. The first sends
    # check it instead, each against its own converted HTML.
    compiled = CompiledCampaign(
        subject=subject, html=html, text=text, layout=None, sample_check=False
    )
    needs = _names(subject, TEXT_ENV) | _names(html, HTML_ENV) | _names(text, TEXT_ENV)
    return CompiledTemplate(compiled, frozenset(needs - BUILT_IN))


@lru_cache(maxsize=128)
def _compiled(
    template_id: int, version: str, subject: str, html: str, text: str
) -> CompiledTemplate:
    del template_id, version  # part of the cache key only
    return compile_parts(subject=subject, html=html, text=text)


def compiled_for(template: Any) -> CompiledTemplate:
    """A stored template, compiled once per process per version."""
    return _compiled(
        template.pk, template.updated_at.isoformat(), template.subject, template.html, template.text
    )


def check_template(
    *, subject: str, html: str, text: str = "", sample_data: Mapping[str, Any] | None = None
) -> RenderedMessage:
    """Compile and trial-render with the sample data (what saving and the
    preview do); returns the rendering, raises ``TemplateValidationError``."""
    compiled = compile_parts(subject=subject, html=html, text=text)
    return compiled.render(sample_data or {}, recipient=SAMPLE_RECIPIENT)
