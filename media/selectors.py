"""Reading media: one keyset page at a time, newest first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from media.models import MediaFile
from media.storage import preview_url, public_url

PAGE_SIZE = 24


@dataclass(frozen=True)
class MediaPage:
    items: list[MediaFile]
    next_before: int | None  # pass as ``before`` for the next page; None on the last


def media_page(*, before: int | None = None, limit: int = PAGE_SIZE) -> MediaPage:
    """Newest first, keyset-paginated on the id (no OFFSET: page 100 costs as page 1)."""
    rows = MediaFile.objects.order_by("-id")
    if before is not None:
        rows = rows.filter(id__lt=before)
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return MediaPage(items=items, next_before=items[-1].pk if more else None)


def as_json(media: MediaFile) -> dict[str, Any]:
    """What the media picker shows and hands to the editor."""
    return {
        "id": media.pk,
        "url": public_url(media.name),
        "src": preview_url(media.name),
        "name": media.original_name,
        "width": media.width,
        "height": media.height,
        "size": media.size,
        "content_type": media.content_type,
        # Alt text belongs to where the image is used; the file name is a start.
        "alt": media.original_name.rsplit(".", 1)[0].replace("-", " ").replace("_", " "),
    }
