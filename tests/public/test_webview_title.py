"""The web view is a page with a title: the subject as the recipient got it."""

from __future__ import annotations

from subscribers.public_views import with_title


def test_a_bare_fragment_becomes_a_document_titled_with_the_escaped_subject() -> None:
    page = with_title("<p>Hi</p>", "Deals <50% & more")
    assert page.startswith("<!doctype html>")
    assert "<title>Deals &lt;50% &amp; more</title>" in page
    assert "<body>\n<p>Hi</p>\n</body>" in page


def test_a_layout_with_a_head_gets_the_title_inside_it() -> None:
    page = with_title(
        '<html lang="en"><head><meta charset="utf-8"></head><body>x</body></html>', "S"
    )
    assert page == (
        '<html lang="en"><head><title>S</title><meta charset="utf-8"></head><body>x</body></html>'
    )


def test_a_layout_without_a_head_gets_one() -> None:
    assert with_title("<html><body>x</body></html>", "S") == (
        "<html><head><title>S</title></head><body>x</body></html>"
    )


def test_a_layout_that_sets_its_own_title_keeps_it() -> None:
    page = "<html><head><title>Ours</title></head><body>x</body></html>"
    assert with_title(page, "Subject") == page
