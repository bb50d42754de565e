"""How a campaign body is written: rich text, Markdown or raw HTML.

``Campaign.html`` is what is sent in every mode. Rich text and HTML modes
edit that HTML directly (the rich editor is a view of the same HTML). In
Markdown mode ``Campaign.source`` holds the Markdown and the HTML is made
from it by :func:`markdown_to_html`, the one conversion used both when saving
and in the live preview, so what the preview shows is what is sent.

Jinja tags pass through the conversion untouched: each ``{{ … }}``,
``{% … %}`` and ``{# … #}`` is swapped for an alphanumeric placeholder before
Markdown sees it (Markdown would escape the quotes in
``{{ subscriber.name or "there" }}`` and percent-encode a tag used as a
link's address) and put back afterwards. A ``{{`` that Markdown itself
produced (from ``{\\{`` or ``&#123;{``) is written as an entity, so the only
Jinja in the result is the author's own.

Raw HTML inside the Markdown is kept, as CommonMark does: an HTML-mode author
writes any HTML anyway, and marketers need tables and buttons. Markdown adds
no way beyond that: its links and images refuse ``javascript:``, ``vbscript:``,
``file:`` and non-image ``data:`` addresses.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from markdown_it import MarkdownIt

from campaigns.models import Campaign
from campaigns.rendering import TemplateProblem

# Jinja's default delimiters, shortest match; the sandbox uses the defaults.
JINJA_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)
# A "{{", "{%" or "{#" the Markdown conversion made out of escaped text.
_STRAY_OPENER = re.compile(r"\{(?=[{%#])")

_MARKDOWN = MarkdownIt("commonmark", {"html": True, "typographer": False}).enable("table")


@dataclass(frozen=True, slots=True)
class MarkdownHtml:
    """HTML made from Markdown, and where its Jinja tags came from.

    ``source_lines`` maps a line of ``html`` that holds one of the author's
    Jinja tags to the Markdown line the tag was written on, so a template
    error in the HTML is shown on the line the author wrote.
    """

    html: str
    source_lines: dict[int, int] = field(default_factory=dict)

    def source_line(self, html_line: int | None) -> int | None:
        if html_line is None:
            return None
        return self.source_lines.get(html_line)


def markdown_to_html(source: str) -> MarkdownHtml:
    """The HTML a Markdown body is sent as, Jinja tags kept exactly."""
    nonce = secrets.token_hex(4)
    tags: list[tuple[str, int]] = []

    def hide(match: re.Match[str]) -> str:
        line = source.count("\n", 0, match.start()) + 1
        tags.append((match.group(0), line))
        # Letters and digits only: no Markdown meaning, unchanged in URLs.
        return f"pjt{nonce}n{len(tags) - 1}x"

    hidden = JINJA_TAG.sub(hide, source)
    rendered = _STRAY_OPENER.sub("&#123;", _MARKDOWN.render(hidden))
    placeholder = re.compile(rf"(<p>)?pjt{nonce}n(\d+)x(</p>)?")

    def restore(match: re.Match[str]) -> str:
        tag = tags[int(match.group(2))][0]
        # A statement alone on its line ({% if %}, {% endfor %}) stays out of
        # the paragraph Markdown puts it in: <p>{% endif %}</p> would leave
        # an empty paragraph, or an unclosed one, in some branches.
        if match.group(1) and match.group(3) and tag.startswith(("{%", "{#")):
            return tag
        return (match.group(1) or "") + tag + (match.group(3) or "")

    html = placeholder.sub(restore, rendered)
    source_lines: dict[int, int] = {}
    # Find each tag's line in the result, walking in order.
    position, html_line = 0, 1
    for tag, line in tags:
        found = html.find(tag, position)
        if found < 0:  # pragma: no cover - every placeholder is restored
            continue
        html_line += html.count("\n", position, found)
        source_lines.setdefault(html_line, line)
        html_line += tag.count("\n")
        position = found + len(tag)
    return MarkdownHtml(html=html, source_lines=source_lines)


@dataclass(frozen=True, slots=True)
class Body:
    """What a campaign stores for its body in a mode: the sent HTML and the source."""

    editor: str
    html: str
    source: str
    markdown: MarkdownHtml | None = None

    def problems_in_source(self, problems: list[TemplateProblem]) -> list[TemplateProblem]:
        """Template problems of the HTML, placed on the Markdown lines they came from."""
        if self.markdown is None:
            return problems
        return [
            TemplateProblem("source", self.markdown.source_line(p.line), p.message)
            if p.field == "html"
            else p
            for p in problems
        ]


def body_for(*, editor: str, html: str, source: str) -> Body:
    """The body to store (and preview) for the mode: Markdown mode makes the HTML
    from the source; the other modes keep the HTML and store no source."""
    if editor not in Campaign.Editor.values:
        modes = ", ".join(Campaign.Editor.values)
        raise ValidationError({"editor": f"Choose an editor mode: one of {modes}."})
    if editor == Campaign.Editor.MARKDOWN:
        converted = markdown_to_html(source)
        return Body(editor=editor, html=converted.html, source=source, markdown=converted)
    return Body(editor=editor, html=html, source="")


# Switching modes, as the editor's JavaScript does it (static/js/editor.js):
# Markdown to HTML or rich text renders the Markdown (exact); rich text and
# HTML are the same HTML; HTML or rich text to Markdown converts in the
# browser and may lose what Markdown cannot say (layout tables, styles,
# classes), so the editor warns first and lets the author cancel.
LOSSY_SWITCHES: frozenset[tuple[str, str]] = frozenset(
    {
        (Campaign.Editor.HTML, Campaign.Editor.MARKDOWN),
        (Campaign.Editor.RICH, Campaign.Editor.MARKDOWN),
    }
)


def switch_loses_formatting(current: str, wanted: str) -> bool:
    return (current, wanted) in LOSSY_SWITCHES


def clean_tag_names(names: list[str] | str) -> list[str]:
    """Tag names from a list or a comma-separated string: trimmed, spaces
    collapsed, duplicates (ignoring case) dropped, order kept."""
    if isinstance(names, str):
        names = names.split(",")
    seen: set[str] = set()
    cleaned: list[str] = []
    for name in names:
        name = " ".join(str(name).split())
        if name and name.casefold() not in seen:
            seen.add(name.casefold())
            cleaned.append(name)
    return cleaned
