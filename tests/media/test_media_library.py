"""Media uploads: only real raster images, stored under their hash, served for a year."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from media.models import MediaFile
from tests.support.media import media_on_disk

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_on_disk")]


def image_bytes(kind: str = "PNG", size: tuple[int, int] = (40, 20), color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, kind)
    return buffer.getvalue()


def upload(client: Client, name: str, data: bytes, **headers: str) -> Any:
    return client.post("/media/upload/", {"file": SimpleUploadedFile(name, data)}, headers=headers)


def test_an_image_is_stored_under_its_hash_with_its_size(
    teammate_client: Client, media_on_disk: Path
) -> None:
    response = upload(teammate_client, "logo.png", image_bytes(), Accept="application/json")
    assert response.status_code == 201
    media = MediaFile.objects.get()
    assert (media.original_name, media.content_type) == ("logo.png", "image/png")
    assert (media.width, media.height) == (40, 20)
    assert media.name.endswith(".png") and len(media.name) == 36
    assert (media_on_disk / media.name).read_bytes() == image_bytes()
    body = response.json()
    assert body["url"] == f"https://postino.example.com/m/{media.name}"
    assert (body["width"], body["height"], body["alt"]) == (40, 20, "logo")


def test_the_same_image_twice_is_one_file(teammate_client: Client) -> None:
    upload(teammate_client, "a.png", image_bytes())
    upload(teammate_client, "b.png", image_bytes())
    assert MediaFile.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("notes.png", b"just some text, not an image", "not an image we accept"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script/></svg>', "SVG"),
        ("sneaky.png", b'<?xml version="1.0"?><svg></svg>', "SVG"),
        ("photo.bmp", image_bytes("BMP"), "BMP images are not accepted"),
    ],
)
def test_what_is_not_a_png_jpeg_gif_or_webp_is_refused_with_a_reason(
    teammate_client: Client, name: str, data: bytes, says: str
) -> None:
    response = upload(teammate_client, name, data, Accept="application/json")
    assert response.status_code == 400
    assert says in response.json()["error"]
    assert not MediaFile.objects.exists()


def test_a_file_over_the_size_cap_is_refused(teammate_client: Client, settings: Any) -> None:
    settings.POSTINO = {**settings.POSTINO, "MEDIA_MAX_UPLOAD_MB": 1}
    big = image_bytes("PNG", (1200, 1200), "white") + b"\0" * (1024 * 1024)
    response = upload(teammate_client, "big.png", big, Accept="application/json")
    assert response.status_code == 400
    assert "the limit is 1 MB" in response.json()["error"]


@pytest.mark.parametrize("kind", ["JPEG", "GIF", "WEBP"])
def test_jpeg_gif_and_webp_are_accepted(teammate_client: Client, kind: str) -> None:
    assert upload(teammate_client, f"x.{kind.lower()}", image_bytes(kind)).status_code == 302
    assert MediaFile.objects.get().content_type == f"image/{kind.lower()}"


def test_uploading_and_listing_are_for_staff_only(client: Client, outsider_client: Client) -> None:
    assert upload(client, "a.png", image_bytes()).status_code == 302  # to log in
    assert upload(outsider_client, "a.png", image_bytes()).status_code == 403
    assert outsider_client.get("/media/library.json").status_code == 403
    assert outsider_client.get("/media/").status_code == 403
    assert not MediaFile.objects.exists()


def test_a_file_is_served_publicly_with_long_lived_cache_headers(
    teammate_client: Client, client: Client
) -> None:
    upload(teammate_client, "logo.png", image_bytes())
    media = MediaFile.objects.get()
    response = client.get(f"/m/{media.name}")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"".join(response.streaming_content) == image_bytes()  # type: ignore[attr-defined]
    etag = response["ETag"]
    again = client.get(f"/m/{media.name}", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_a_deleted_file_is_gone(
    teammate_client: Client, media_on_disk: Path, django_capture_on_commit_callbacks: Any
) -> None:
    upload(teammate_client, "logo.png", image_bytes())
    media = MediaFile.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        teammate_client.post(f"/media/{media.pk}/delete/")
    assert not MediaFile.objects.exists()
    assert not (media_on_disk / media.name).exists()
    assert Client().get(f"/m/{media.name}").status_code == 404


def test_the_picker_pages_by_keyset_newest_first(teammate_client: Client) -> None:
    for index in range(30):
        upload(teammate_client, f"img{index}.png", image_bytes(size=(10 + index, 10)))
    first = teammate_client.get("/media/library.json").json()
    assert [item["name"] for item in first["items"][:2]] == ["img29.png", "img28.png"]
    assert len(first["items"]) == 24
    second = teammate_client.get(f"/media/library.json?before={first['next']}").json()
    assert [item["name"] for item in second["items"]] == [f"img{i}.png" for i in range(5, -1, -1)]
    assert second["next"] is None


def test_the_library_page_shows_the_images(teammate_client: Client) -> None:
    upload(teammate_client, "logo.png", image_bytes())
    page = teammate_client.get("/media/").content.decode()
    assert "logo.png" in page and "Copy URL" in page and "/m/" in page


__all__ = ["media_on_disk"]  # the fixture, imported for pytest
