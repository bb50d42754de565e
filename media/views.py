"""The media library (staff), its JSON for the picker, and the public file URL."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from media import selectors, services
from media.models import MediaFile
from media.storage import media_storage, public_url, served_here
from postino.permissions import staff_required

# The bytes behind a name never change (the name is their hash).
IMMUTABLE = "public, max-age=31536000, immutable"


def _before(request: HttpRequest) -> int | None:
    raw = request.GET.get("before", "")
    return int(raw) if raw.isdigit() else None


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@require_GET
@staff_required
def library(request: HttpRequest) -> HttpResponse:
    page = selectors.media_page(before=_before(request))
    return render(
        request,
        "media/library.html",
        {
            "page": page,
            "items": [selectors.as_json(item) for item in page.items],
            "max_mb": services.max_upload_bytes() // (1024 * 1024),
            "accept": ",".join(content_type for content_type, _ in services.FORMATS.values()),
        },
    )


@require_GET
@staff_required
def library_json(request: HttpRequest) -> JsonResponse:
    page = selectors.media_page(before=_before(request))
    return JsonResponse(
        {"items": [selectors.as_json(item) for item in page.items], "next": page.next_before}
    )


@require_POST
@staff_required
def upload(request: HttpRequest) -> HttpResponse:
    file = request.FILES.get("file")
    try:
        if file is None:
            raise services.MediaRefused("Choose an image to upload.")
        media = services.upload_media(file=file, uploaded_by=request.user)
    except ValidationError as exc:
        if _wants_json(request):
            return JsonResponse({"error": " ".join(exc.messages)}, status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect("media:library")
    if _wants_json(request):
        return JsonResponse(selectors.as_json(media), status=201)
    messages.success(request, f"Uploaded “{media.original_name}”.")
    return redirect("media:library")


@require_POST
@staff_required
def delete(request: HttpRequest, media_id: int) -> HttpResponse:
    media = get_object_or_404(MediaFile, pk=media_id)
    services.delete_media(media=media)
    messages.success(request, f"Deleted “{media.original_name}”.")
    return redirect("media:library")


@require_http_methods(["GET", "HEAD"])
def serve(request: HttpRequest, name: str) -> HttpResponseBase:
    """A media file, public (emails show it), cacheable for a year.

    The database says which names exist, so a deleted file is gone here even
    when a copy is left on disk.
    """
    media = MediaFile.objects.filter(name=name).only("name", "content_type", "size").first()
    if media is None:
        raise Http404("No such media file")
    if not served_here():
        return HttpResponsePermanentRedirect(public_url(name))
    etag = f'"{name.partition(".")[0]}"'
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        response = FileResponse(media_storage().open(name), content_type=media.content_type)
        response["Content-Length"] = str(media.size)
    response["Cache-Control"] = IMMUTABLE
    response["ETag"] = etag
    return response
