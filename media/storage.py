"""Where media files live: the ``media`` entry of ``STORAGES`` (disk or S3-compatible)."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.urls import reverse


def media_storage() -> Storage:
    return storages["media"]


def served_here() -> bool:
    """Disk storage is served by ``media.views.serve``; S3 serves its own files."""
    return isinstance(media_storage(), FileSystemStorage)


def public_url(name: str) -> str:
    """The absolute URL an email links to (mail clients need the host)."""
    if served_here():
        return f"{settings.BASE_URL}{reverse('media:serve', args=[name])}"
    base = settings.POSTINO["MEDIA_PUBLIC_URL"]
    if base:
        return f"{base.rstrip('/')}/{name}"
    return str(media_storage().url(name))


def preview_url(name: str) -> str:
    """Where the staff UI shows the file: same-origin on disk (BASE_URL may be
    another host, as behind a proxy), else the public URL."""
    return reverse("media:serve", args=[name]) if served_here() else public_url(name)
