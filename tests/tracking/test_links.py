"""Signed tracking links, and messages rewritten to use them."""

from __future__ import annotations

import pytest

from tracking import links


def test_a_click_link_names_campaign_recipient_and_destination() -> None:
    path = links.click_path(7, 42, "https://example.com/a?b=1&c=2")
    token, encoded = path.removeprefix("/t/c/").split("/")
    assert links.read_click(token, encoded) == links.Tracked(7, 42, "https://example.com/a?b=1&c=2")


@pytest.mark.parametrize(
    "change",
    [
        lambda token, url: (token.replace("7.", "8.", 1), url),  # another campaign
        lambda token, url: (token.replace(".2a.", ".2b.", 1), url),  # another recipient
        lambda token, url: (token, url[:-2] + "xx"),  # another destination
        lambda token, url: (token[:-1] + ("A" if token[-1] != "A" else "B"), url),  # the MAC
        lambda token, url: (token.split(".", 1)[1], url),  # cut short
    ],
)
def test_a_changed_click_link_is_refused(change: object) -> None:
    token, encoded = (
        links.click_path(7, 42, "https://example.com/page").removeprefix("/t/c/").split("/")
    )
    token, encoded = change(token, encoded)  # type: ignore[operator]
    with pytest.raises(links.InvalidLink):
        links.read_click(token, encoded)


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "https://shop.example/\r\nSet-Cookie: x=1", "https://a b/"]
)
def test_only_web_destinations_that_fit_a_header_are_signed_links(url: str) -> None:
    token, encoded = links.click_path(1, 2, url).removeprefix("/t/c/").split("/")
    with pytest.raises(links.InvalidLink):
        links.read_click(token, encoded)
    # and such a link is left as written in a message
    assert links.rewrite_html(f'<a href="{url}">x</a>', lambda u: "TRACKED", keep=()) == (
        f'<a href="{url}">x</a>'
    )


def test_an_open_pixel_link_round_trips_and_privacy_mode_names_nobody() -> None:
    token = links.open_path(3, None).removeprefix("/t/o/").removesuffix(".gif")
    assert links.read_open(token) == links.Tracked(3, None)
    with pytest.raises(links.InvalidLink):
        links.read_open(token.replace("3.0.", "3.1."))


def test_html_links_are_rewritten_but_mail_phone_anchors_and_own_links_are_not() -> None:
    html = (
        '<p><a href="https://shop.example/?a=1&amp;b=2">Shop</a> '
        "<a class='x' href='http://blog.example/post'>Blog</a> "
        '<a href="mailto:hi@example.com">Mail</a> <a href="tel:+351">Call</a> '
        '<a href="#top">Top</a> <a href="https://postino.example/s/u/tok/">Unsubscribe</a></p>'
    )
    rewritten = links.rewrite_html(
        html, lambda url: f"https://t.example/{url}", keep={"https://postino.example/s/u/tok/"}
    )
    assert rewritten == (
        '<p><a href="https://t.example/https://shop.example/?a=1&amp;b=2">Shop</a> '
        "<a class='x' href='https://t.example/http://blog.example/post'>Blog</a> "
        '<a href="mailto:hi@example.com">Mail</a> <a href="tel:+351">Call</a> '
        '<a href="#top">Top</a> <a href="https://postino.example/s/u/tok/">Unsubscribe</a></p>'
    )


def test_text_links_are_rewritten_without_the_sentences_punctuation() -> None:
    text = "See https://shop.example/sale. Or (https://blog.example/x), or https://keep.example/"
    rewritten = links.rewrite_text(text, lambda url: f"<{url}>", keep={"https://keep.example/"})
    assert rewritten == (
        "See <https://shop.example/sale>. Or (<https://blog.example/x>), or https://keep.example/"
    )


def test_the_pixel_goes_before_the_end_of_the_body() -> None:
    assert links.with_pixel("<html><body><p>Hi</p></body></html>", "https://t/o.gif") == (
        '<html><body><p>Hi</p><img src="https://t/o.gif" width="1" height="1" alt="" '
        'style="display:block;width:1px;height:1px;border:0"></body></html>'
    )
    assert links.with_pixel("<p>Hi</p>", "https://t/o.gif").startswith("<p>Hi</p><img ")
