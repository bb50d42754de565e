"""The editor's live preview: a JSON answer for the form's current fields.

A POST (CSRF-checked, staff only) because it carries the whole unsaved body;
it reads and renders only (campaigns.preview), so a viewer-free read is not
needed: viewers cannot open the editor either.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_POST

from campaigns.preview import find_preview_subscriber, live_preview
from campaigns.preview_forms import LivePreviewForm
from postino.forms import error_list
from postino.permissions import staff_required
from subscribers.models import Subscriber


@require_POST
@staff_required
def campaign_live_preview(request: HttpRequest) -> JsonResponse:
    form = LivePreviewForm(request.POST)
    if not form.is_valid():
        return JsonResponse(
            {
                "ok": False,
                "errors": [
                    {"field": name, "line": None, "message": message}
                    for name, messages in form.errors.items()
                    for message in messages
                ],
            },
            status=400,
        )
    data = form.cleaned_data
    subscriber: Subscriber | None = None
    if data["email"].strip() or data["subscriber"]:
        try:
            subscriber = find_preview_subscriber(
                email=data["email"], subscriber_id=data["subscriber"]
            )
        except ValidationError as exc:
            errors = [{**e, "line": None} for e in error_list(exc, default_field="email")]
            return JsonResponse({"ok": False, "errors": errors}, status=400)
    preview = live_preview(
        subject=data["subject"],
        preheader=data["preheader"],
        editor=data["editor"],
        source=data["source"],
        html=data["html"],
        text=data["text"],
        layout=data["template"],
        campaign=data["campaign"],
        subscriber=subscriber,
        lists=data["lists"],
    )
    return JsonResponse(preview.as_json())
