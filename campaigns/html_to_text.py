"""Derive the plain-text part of an email from its HTML.

Readers on text-only clients (and spam filters) expect a text part that says
the same as the HTML: paragraphs as blank-line separated blocks, links with
their address, list items with bullets, no markup, no script or style text.

This runs once per recipient, so it is a single regular-expression scan over
tags and text rather than ``html.parser`` (which costs several times more).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape

_BLOCK = {
    "p", "div", "section", "article", "header", "footer", "table", "tr", "ul", "ol",
    "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr", "center", "main",
}  # fmt: skip
_SKIP = {"script", "style", "head", "title", "template"}
# Raw-text elements: their content is not markup ("a<b" in a script), so the
# scan jumps straight to their closing tag.
_RAW_TEXT_END = {
    "script": re.compile(r"</script\s*>", re.I),
    "style": re.compile(r"</style\s*>", re.I),
}
_TOKENS = re.compile(
    r"""<!--.*?-->"""  # comment
    r"""|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>"""  # tag
    r"""|<[!?][^>]*>"""  # doctype, processing instruction
    r"""|([^<]+)"""  # text
    r"""|(<)""",  # a lone '<' is text
    re.S,
)
_ATTRIBUTE = re.compile(
    r"""([a-zA-Z_:][-a-zA-Z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))"""
)
_BLANK_LINES = re.compile(r"\n{3,}")


_WHITESPACE = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\f": " ", "\v": " "})


def collapse_whitespace(data: str) -> str:
    """Runs of ASCII white space become one space; a no-break space stays.

    (str.translate and str.split are several times faster than a regex here.)
    """
    spaced = data.translate(_WHITESPACE)
    collapsed = " ".join(word for word in spaced.split(" ") if word)
    if not collapsed:
        return " " if spaced else ""
    if spaced[0] == " ":
        collapsed = " " + collapsed
    if spaced[-1] == " ":
        collapsed += " "
    return collapsed


def _attribute(raw: str, name: str) -> str:
    for match in _ATTRIBUTE.finditer(raw):
        if match.group(1).lower() == name:
            value = match.group(2) or match.group(3) or match.group(4) or ""
            return unescape(value) if "&" in value else value
    return ""


def html_to_text(html: str) -> str:
    return tidy(scan(html))


def tidy(text: str) -> str:
    """Lines stripped, at most one blank line in a row, one final newline."""
    lines = [line.strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip() + "\n"


def scan(html: str, *, same: Callable[[str, str], bool] | None = None) -> str:
    """The text of ``html`` before ``tidy``. ``same(href, label)`` says whether
    a link's label already shows its address (default: equal strings)."""
    parts: list[str] = []
    links: list[tuple[str, int]] = []
    skip_depth = 0
    pre_depth = 0
    position = 0
    while position < len(html):
        match = _TOKENS.match(html, position)
        if match is None:  # pragma: no cover - the alternation matches any character
            break
        position = match.end()
        closing, tag, attributes, text, lone = match.groups()
        if text is not None or lone is not None:
            if skip_depth:
                continue
            data = text if text is not None else "<"
            if "&" in data:
                data = unescape(data)
            if not pre_depth:
                data = collapse_whitespace(data)
            parts.append(data)
            continue
        if tag is None:
            continue  # comment, doctype
        tag = tag.lower()
        if closing:
            if tag in _SKIP:
                skip_depth = max(0, skip_depth - 1)
            elif tag == "a" and links:
                href, start = links.pop()
                label = "".join(parts[start:]).strip()
                shown = same(href, label) if same is not None else href == label
                if href and not href.startswith(("#", "javascript:")) and not shown:
                    parts.append(f" ({href})" if label else href)
            elif tag in _BLOCK:
                if tag == "pre":
                    pre_depth = max(0, pre_depth - 1)
                parts.append("\n\n")
            continue
        if tag in _RAW_TEXT_END:
            end = _RAW_TEXT_END[tag].search(html, position)
            position = end.end() if end else len(html)
        elif tag in _SKIP:
            if not attributes.rstrip().endswith("/"):
                skip_depth += 1
        elif tag == "br":
            parts.append("\n")
        elif tag == "li":
            parts.append("\n* ")
        elif tag in {"td", "th"}:
            parts.append(" ")
        elif tag == "a":
            links.append((_attribute(attributes, "href"), len(parts)))
        elif tag == "img":
            alt = _attribute(attributes, "alt")
            if alt:
                parts.append(alt)
        elif tag in _BLOCK:
            if tag == "pre":
                pre_depth += 1
            parts.append("\n\n")
            if tag == "hr":
                parts.append("-" * 20 + "\n\n")
    return "".join(parts)
