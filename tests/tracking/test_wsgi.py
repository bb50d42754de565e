"""The WSGI fast path answers the tracking links before Django, as the views do."""

from __future__ import annotations

from typing import Any

import pytest

from tracking import links, queue
from tracking.wsgi import fast_path

pytestmark = pytest.mark.usefixtures("clean_redis")


def django_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"django"]


def call(path: str, method: str = "GET") -> tuple[str, dict[str, str], bytes]:
    seen: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "PATH_INFO": path,
        "REQUEST_METHOD": method,
        "HTTP_USER_AGENT": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0",
        "REMOTE_ADDR": "192.0.2.7",
    }
    body = b"".join(fast_path(django_app)(environ, start_response))
    return seen["status"], seen["headers"], body


def test_a_click_is_verified_queued_and_redirected_without_django() -> None:
    status, headers, body = call(links.click_path(3, 9, "https://shop.example/a?b=c"))
    assert (status, headers["Location"], body) == ("302 Found", "https://shop.example/a?b=c", b"")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert queue.depth() == 1
    (event,) = queue.claim(10)[1]
    assert (event["k"], event["c"], event["s"], event["u"]) == (
        "click",
        3,
        9,
        "https://shop.example/a?b=c",
    )
    assert "192.0.2.7" not in str(event)  # the address is never queued


def test_the_pixel_answers_a_gif_and_head_has_no_body() -> None:
    path = links.open_path(3, 9)
    status, headers, body = call(path)
    assert (status, headers["Content-Type"], body[:6]) == ("200 OK", "image/gif", b"GIF89a")
    assert call(path, "HEAD")[2] == b""


def test_forged_odd_and_unsafe_requests_are_refused_and_others_go_to_django() -> None:
    good = links.click_path(3, 9, "https://shop.example/")
    assert call(good[:-3] + "xyz")[0] == "404 Not Found"
    assert call(good + "/more")[0] == "404 Not Found"
    assert call("/t/o/nonsense.gif")[0] == "404 Not Found"
    assert call(good, "POST")[0] == "405 Method Not Allowed"
    assert call("/campaigns/")[2] == b"django"
    assert call("/t/other")[2] == b"django"
    assert queue.depth() == 0
