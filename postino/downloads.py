"""A streamed CSV download, as the pages and the API hand out exports and reports."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import StreamingHttpResponse


def csv_download(lines: Iterable[str], filename: str) -> StreamingHttpResponse:
    """Send ``lines`` as they come (the server never holds the whole file)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
