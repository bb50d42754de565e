"""/favicon.ico answers on every site path a browser tries, logged in or not."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.test import Client


def test_the_favicon_is_served_to_anyone_and_cached(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert response.content == (Path(settings.BASE_DIR) / "static/img/postino.svg").read_bytes()
    cache_control = response["Cache-Control"]
    assert "public" in cache_control
    assert "max-age=86400" in cache_control
    assert "Set-Cookie" not in response


def test_the_favicon_refuses_writes(client: Client) -> None:
    assert client.post("/favicon.ico").status_code == 405
    assert client.head("/favicon.ico").status_code == 200
