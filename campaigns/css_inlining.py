"""Inline a campaign's ``<style>`` rules into style attributes, once per campaign.

Many mail clients drop ``<style>`` (or the ``<head>``), so a message carries its
look in ``style=""`` attributes. Inlining each rendered message would cost as much
as rendering it, so the *templates* are inlined, once, when a campaign compiles:

1. every Jinja tag of the layout and of the body becomes an HTML comment
   placeholder (``<!--\\ue000N\\ue001-->``). A comment stays where it is in any
   HTML context, even between table rows, where the HTML parser would move text
   out of the table ("foster parenting"); in an attribute value it is text and
   comes back unchanged; in RCDATA (``<title>``) it comes back entity-escaped;
2. the body goes into the layout's ``{% block content %}``, so the layout's rules
   (``.footer a``) reach the body's elements, and css-inline runs on the whole;
3. the output is split at the content block's placeholders and each tag is put
   back, only if every placeholder is found exactly once and in order.

What cannot be inlined stays in a ``<style>`` in the head (``@media``,
``@font-face``); rules with pseudo-classes (``a:hover``) are dropped, as
clients that keep them would keep the ``<style>`` too.

Anything the placeholders cannot carry safely (a Jinja tag inside a start tag
but outside an attribute value, inside ``<style>``, a ``{% raw %}`` block, a
parse error) makes ``inline_templates`` return the sources unchanged: the
message then relies on its ``<style>`` element, as before inlining existed.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import css_inline
from jinja2 import Environment, TemplateSyntaxError

log = logging.getLogger(__name__)

_PLACEHOLDER = "<!--\ue000{}\ue001-->"
_RESTORABLE = re.compile("<!--\ue000(\\d+)\ue001-->|&lt;!--\ue000(\\d+)\ue001--&gt;")
_STYLE_ELEMENT = re.compile(r"<style\b", re.IGNORECASE)
_TBODY = re.compile(r"</?tbody>", re.IGNORECASE)
_CLOSERS = {"variable_begin": "variable_end", "block_begin": "block_end"}

# Remote stylesheets are not fetched (no network at compile time, no SSRF through
# a layout) and their <link> stays for the clients that load it.
_INLINER = css_inline.CSSInliner(
    keep_at_rules=True, load_remote_stylesheets=False, keep_link_tags=True
)


@dataclass(frozen=True, slots=True)
class InlinedSources:
    html: str
    layout: str | None
    inlined: bool


@dataclass(slots=True)
class _Shielded:
    marked: list[str]  # the source with a placeholder for each tag
    tags: list[str]  # each tag's source, by placeholder number
    content_start: int | None = None  # marked index of {% block content %}
    content_end: int | None = None  # marked index of its {% endblock %}


def _shield(source: str, env: Environment, tags: list[str]) -> _Shielded | None:
    """``source`` with each Jinja tag replaced by a numbered placeholder."""
    try:
        tokens = list(env.lexer.tokeniter(source, None))
    except TemplateSyntaxError:
        return None
    shielded = _Shielded(marked=[], tags=tags)
    blocks: list[bool] = []  # open {% block %}s: is it the content block?
    current: list[tuple[str, str]] | None = None
    for _, kind, value in tokens:
        if current is None:
            if kind == "data":
                shielded.marked.append(value)
            elif kind in _CLOSERS or kind == "comment_begin":
                current = [(kind, value)]
            else:
                return None  # {% raw %}: its content is not Jinja, keep it all as is
            continue
        current.append((kind, value))
        closer = "comment_end" if current[0][0] == "comment_begin" else _CLOSERS[current[0][0]]
        if kind != closer:
            continue
        significant = [v for k, v in current if k not in ("whitespace", "comment")]
        if current[0][0] == "block_begin" and len(significant) > 1:
            if significant[1] == "block":
                is_content = len(significant) > 2 and significant[2] == "content"
                blocks.append(is_content)
                if is_content:
                    shielded.content_start = len(shielded.marked)
            elif significant[1] == "endblock" and blocks and blocks.pop():
                shielded.content_end = len(shielded.marked)
        shielded.marked.append(_PLACEHOLDER.format(len(tags)))
        tags.append("".join(v for _, v in current))
        current = None
    return shielded if current is None else None


def _restore(text: str, tags: list[str], expected: list[int]) -> str | None:
    """``text`` with its placeholders replaced by their tags, or None unless they are
    exactly the ``expected`` ones, once each and in order."""
    found = [int(m.group(1) or m.group(2)) for m in _RESTORABLE.finditer(text)]
    if found != expected:
        return None
    return _RESTORABLE.sub(lambda m: tags[int(m.group(1) or m.group(2))], text)


def _number(placeholder: str) -> int:
    match = _RESTORABLE.fullmatch(placeholder)
    assert match is not None
    return int(match.group(1))


def inline_templates(*, html: str, layout: str | None, env: Environment) -> InlinedSources:
    """The body and layout templates with their CSS inlined, or unchanged when there is
    nothing to inline or the Jinja tags could not be carried through safely."""
    unchanged = InlinedSources(html=html, layout=layout, inlined=False)
    if not _STYLE_ELEMENT.search(html) and not (layout and _STYLE_ELEMENT.search(layout)):
        return unchanged  # nothing to inline: skip the parse, keep the markup as written
    tags: list[str] = []
    frame = _shield(layout, env, tags) if layout else None
    frame_count = len(tags)
    body = _shield(html, env, tags)
    if body is None or (layout and (frame is None or frame.content_end is None)):
        return unchanged
    body_numbers = list(range(frame_count, len(tags)))
    if frame is not None:
        assert frame.content_start is not None and frame.content_end is not None
        opening = frame.marked[frame.content_start]
        closing = frame.marked[frame.content_end]
        # The body replaces the block's default content, as {% extends %} does.
        marked = [
            *frame.marked[: frame.content_start + 1],
            *body.marked,
            *frame.marked[frame.content_end :],
        ]
        outer_numbers = [
            n for n in range(frame_count) if not _number(opening) < n < _number(closing)
        ]
    else:
        marked = body.marked
    source = "".join(marked)
    try:
        output = _INLINER.inline(source)
    except (css_inline.InlineError, ValueError):
        log.info("CSS inlining failed; the message keeps its <style>", exc_info=True)
        return unchanged
    if not _TBODY.search(source):
        # The parser puts a <tbody> in every table; around a {% for %} of rows it
        # would end up inside the loop.
        output = _TBODY.sub("", output)
    if frame is None:
        restored = _restore(output, tags, body_numbers)
        if restored is None:
            log.info("Jinja tags did not survive CSS inlining; the message keeps its <style>")
            return unchanged
        return InlinedSources(html=restored, layout=None, inlined=True)
    # The content block's placeholders split the output into layout and body.
    before, found, rest = output.partition(opening)
    inside, found_end, after = rest.partition(closing)
    outer = _restore(before + opening + closing + after, tags, outer_numbers)
    inner = _restore(inside, tags, body_numbers)
    if not (found and found_end) or outer is None or inner is None:
        log.info("Jinja tags did not survive CSS inlining; the message keeps its <style>")
        return unchanged
    return InlinedSources(html=inner, layout=outer, inlined=True)
