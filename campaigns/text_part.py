"""A campaign's text part, derived once from its HTML template instead of per recipient.

A campaign without a text template gets the text of its HTML. Converting each
recipient's rendered HTML (``campaigns.html_to_text``) costs as much as
rendering it. So the HTML *template* is converted once: each Jinja tag is
replaced by a placeholder, the HTML around the placeholders becomes text, and
the tags go back in. The result is a text template, compiled once and rendered
per recipient like a hand-written one, saying what the converted HTML would
say: the same paragraphs, bullets and link addresses, with each ``{{ value }}``
where it was.

What the conversion cannot foresee makes ``derive_text_source`` give up
(``None``), and the caller converts each rendered HTML as before:

* output that is markup itself (``|safe``, ``|urlize``, ``|xmlattr``,
  ``|escape``...), whose tags only the rendered HTML shows;
* macros, call blocks, ``{% set %}`` blocks, filter blocks and ``{% raw %}``;
* ``<pre>`` and ``<textarea>``, where the white space of values would matter;
* a statement tag the HTML scan drops (inside a tag, a comment or a
  ``<style>``): the text template's blocks would no longer balance.

``CompiledCampaign`` also checks the derived text against the converted HTML
for the sample subscriber and for the first recipients it renders, and falls
back for good on any difference beyond white space.
"""

from __future__ import annotations

import itertools
import re

from jinja2 import Environment, TemplateSyntaxError

from campaigns.html_to_text import collapse_whitespace, scan

_PLACEHOLDER = "\x00{}\x00"
_PLACEHOLDERS = re.compile("\x00(\\d+)\x00")
# Filters whose result is markup (or entity-escaped text) put in the HTML as is.
_MARKUP_FILTERS = frozenset({"safe", "urlize", "xmlattr", "forceescape", "escape", "e"})
_STATEMENTS = frozenset(
    {"if", "elif", "else", "endif", "for", "endfor", "set", "with", "endwith",
     "block", "endblock", "extends"}
)  # fmt: skip
_VERBATIM_ELEMENTS = re.compile(r"<(pre|textarea)\b", re.IGNORECASE)
_CLOSERS = {"variable_begin": "variable_end", "block_begin": "block_end"}


def collapse_value(value: object) -> str:
    """How a ``{{ value }}`` reads in the text part: runs of white space as one
    space, as the HTML conversion reads them (``finalize`` of the text env)."""
    return collapse_whitespace(str(value))


def derive_text_source(source: str, env: Environment) -> str | None:
    """The text template saying what ``source`` (an HTML template) says, or None."""
    if _VERBATIM_ELEMENTS.search(source):
        return None
    try:
        # The lexer applies whitespace control ({%- ... -%}) to the text
        # between tags, so that text is what the rendered HTML holds.
        tokens = list(env.lexer.tokeniter(source, None))
    except TemplateSyntaxError:
        return None

    marked: list[str] = []  # the HTML with a placeholder for each tag
    tags: list[tuple[str, bool]] = []  # (the tag's source, is a statement)
    current: list[tuple[str, str]] | None = None
    in_comment = False
    for _, kind, value in tokens:
        if in_comment:
            in_comment = kind != "comment_end"  # a comment renders as nothing
            continue
        if current is None:
            if kind == "data":
                marked.append(value)
            elif kind == "comment_begin":
                in_comment = True
            elif kind in _CLOSERS:
                current = [(kind, value.rstrip("-+"))]  # its stripping is done
            else:
                return None  # {% raw %}, or a token we do not expect between tags
            continue
        if kind == _CLOSERS[current[0][0]]:
            value = value.strip().lstrip("-+")  # without the white space it took
        current.append((kind, value))
        if kind == _CLOSERS[current[0][0]]:
            if not _convertible(current):
                return None
            marked.append(_PLACEHOLDER.format(len(tags)))
            tags.append(("".join(value for _, value in current), current[0][0] == "block_begin"))
            current = None
    if current is not None or in_comment:
        return None

    def restore(text: str) -> str:
        return _PLACEHOLDERS.sub(lambda match: tags[int(match.group(1))][0], text)

    text = scan("".join(marked), same=lambda href, label: restore(href) == restore(label))
    seen = [int(match.group(1)) for match in _PLACEHOLDERS.finditer(text)]
    statements = [index for index, (_, is_statement) in enumerate(tags) if is_statement]
    if any(seen.count(index) != 1 for index in statements):
        return None
    return restore(text)


def _convertible(tag: list[tuple[str, str]]) -> bool:
    significant = [(kind, value) for kind, value in tag if kind != "whitespace"]
    if significant[0][0] == "block_begin":
        if len(significant) < 2 or significant[1][0] != "name":
            return False
        keyword = significant[1][1]
        if keyword not in _STATEMENTS:
            return False
        # ``{% set x %}...{% endset %}`` captures markup; ``{% set x = ... %}`` does not.
        return keyword != "set" or ("operator", "=") in significant
    return not any(
        first == ("operator", "|") and second[0] == "name" and second[1] in _MARKUP_FILTERS
        for first, second in itertools.pairwise(significant)
    )
