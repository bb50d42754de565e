"""Uploading and deleting media: only real raster images, stored under their hash."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from PIL import Image, UnidentifiedImageError

from media.models import MediaFile
from media.storage import media_storage

# Pillow's format name -> (content type, extension). Raster formats mail clients
# show; SVG is refused as it can carry script and most clients do not show it.
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "GIF": ("image/gif", "gif"),
    "WEBP": ("image/webp", "webp"),
}
# A small file can decode to a huge bitmap (a "decompression bomb"): refused above this.
MAX_PIXELS = 50_000_000


class MediaRefused(ValidationError):
    pass


def max_upload_bytes() -> int:
    return int(settings.POSTINO["MEDIA_MAX_UPLOAD_MB"]) * 1024 * 1024


def _looks_like_svg(head: bytes, filename: str) -> bool:
    start = head.lstrip()[:256].lower()
    return filename.lower().endswith((".svg", ".svgz")) or start.startswith((b"<?xml", b"<svg"))


def _inspect(data: bytes, filename: str) -> tuple[str, int, int]:
    """The image's format and size in pixels, or MediaRefused saying why not."""
    if _looks_like_svg(data[:512], filename):
        raise MediaRefused(
            "SVG images are not accepted: they can carry scripts, and most mail clients "
            "do not show them. Upload a PNG, JPEG, GIF or WebP."
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = image.format or ""
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise MediaRefused(f"The image is too large ({width} x {height} pixels).")
            image.verify()  # reads the whole file: a truncated or corrupt one fails here
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as exc:
        raise MediaRefused(
            "This file is not an image we accept. Upload a PNG, JPEG, GIF or WebP."
        ) from exc
    if image_format not in FORMATS:
        raise MediaRefused(
            f"{image_format or 'This'} images are not accepted. Upload a PNG, JPEG, GIF or WebP."
        )
    return image_format, width, height


def upload_media(*, file: UploadedFile, uploaded_by: Any = None) -> MediaFile:
    """Store an uploaded image; the same bytes uploaded again give the existing file."""
    limit = max_upload_bytes()
    if file.size is not None and file.size > limit:
        raise MediaRefused(
            f"The file is {file.size / 1024 / 1024:.1f} MB; the limit is "
            f"{settings.POSTINO['MEDIA_MAX_UPLOAD_MB']} MB."
        )
    data = file.read(limit + 1)
    if len(data) > limit:  # a size the client did not declare
        raise MediaRefused(f"The file is larger than {settings.POSTINO['MEDIA_MAX_UPLOAD_MB']} MB.")
    image_format, width, height = _inspect(data, file.name or "")
    content_type, extension = FORMATS[image_format]
    name = f"{hashlib.sha256(data).hexdigest()[:32]}.{extension}"
    existing = MediaFile.objects.filter(name=name).first()
    if existing is not None:
        return existing
    storage = media_storage()
    if not storage.exists(name):
        # Content-addressed: a file left behind by a failed insert is the same bytes.
        stored = storage.save(name, ContentFile(data))
        assert stored == name, f"storage renamed {name} to {stored}"
    try:
        with transaction.atomic():
            return MediaFile.objects.create(
                name=name,
                original_name=(file.name or name)[:255],
                content_type=content_type,
                size=len(data),
                width=width,
                height=height,
                uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
            )
    except IntegrityError:
        # The same image uploaded at the same moment by someone else.
        return MediaFile.objects.get(name=name)


def delete_media(*, media: MediaFile) -> None:
    """Delete the file and its row. Emails already sent that show it lose the image."""
    name = media.name
    media.delete()
    transaction.on_commit(lambda: media_storage().delete(name))
