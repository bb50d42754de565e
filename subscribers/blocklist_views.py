"""The blocklist page: entries, a search, adding many at once, removing one."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from postino.forms import ServiceForm
from postino.permissions import staff_required
from subscribers.blocklist import selectors, services
from subscribers.models import BlocklistEntry

PAGE_SIZE = 100


class BlocklistAddForm(ServiceForm):
    entries = forms.CharField(
        label="Add to the blocklist",
        widget=forms.Textarea(
            attrs={"rows": 4, "placeholder": "spam@example.com\nexample.net\n*.example.org"}
        ),
        help_text="One per line: an address, a domain (every address at it), or a pattern "
        "with * (*.example.org: its subdomains; info@*: that mailbox everywhere).",
    )
    note = forms.CharField(max_length=200, required=False, help_text="Why, for your team.")

    default_error_field = "entries"


class BlocklistSearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=320)
    after = forms.IntegerField(required=False, min_value=0)


def _line_errors(exc: ValidationError) -> list[str]:
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    found: list[str] = []
    for key, problems in exc.message_dict.items():
        place = f"Line {key.split('.')[1]}: " if "." in key else ""
        found.extend(place + problem for problem in problems)
    return found


@require_http_methods(["GET", "POST"])
@staff_required
def blocklist_index(request: HttpRequest) -> HttpResponse:
    search = BlocklistSearchForm(request.GET)
    search.is_valid()
    form = BlocklistAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            added = services.add_entries(
                lines=form.cleaned_data["entries"].splitlines(),
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("entries", _line_errors(exc))
        else:
            message = f"{len(added.created)} added to the blocklist."
            if added.existing:
                message += f" Already there: {', '.join(added.existing[:10])}."
            messages.success(request, message)
            return redirect("subscribers:blocklist")
    page = selectors.entries_page(
        search=search.cleaned_data.get("q") or "",
        after=search.cleaned_data.get("after"),
        size=PAGE_SIZE,
    )
    return render(
        request,
        "subscribers/blocklist.html",
        {"form": form, "page": page, "query": search.cleaned_data.get("q") or ""},
        status=400 if form.errors else 200,
    )


@require_POST
@staff_required
def blocklist_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = get_object_or_404(BlocklistEntry, pk=entry_id)
    services.remove_entry(entry=entry)
    messages.success(request, f"“{entry.value}” is no longer on the blocklist.")
    return redirect("subscribers:blocklist")
