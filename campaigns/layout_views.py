"""Marketer pages for layouts (``campaigns.Template``): parse, authorise, call a service,
render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns import layout_services, selectors, services
from campaigns.layout_forms import STARTER_LAYOUT, LayoutForm
from campaigns.models import Template
from postino.permissions import staff_required


@require_GET
@staff_required
def layout_index(request: HttpRequest) -> HttpResponse:
    return render(
        request, "campaigns/layout_index.html", {"layouts": selectors.layouts_with_usage()}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def layout_create(request: HttpRequest) -> HttpResponse:
    form = LayoutForm(request.POST or None, initial={"html": STARTER_LAYOUT})
    if request.method == "POST" and form.is_valid():
        try:
            layout = services.create_layout(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Layout “{layout.name}” created.")
            return redirect("layouts:index")
    return render(request, "campaigns/layout_form.html", {"form": form, "layout": None})


@require_http_methods(["GET", "POST"])
@staff_required
def layout_edit(request: HttpRequest, layout_id: int) -> HttpResponse:
    layout = get_object_or_404(Template, pk=layout_id)
    if request.method == "POST":
        form = LayoutForm(request.POST)
    else:
        form = LayoutForm(initial={"name": layout.name, "html": layout.html})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_layout(layout=layout, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.LayoutInUse as exc:
            form.add_error("html", f"Not saved: {exc}.")
        else:
            messages.success(request, f"Layout “{layout.name}” saved.")
            return redirect("layouts:index")
    return render(
        request,
        "campaigns/layout_form.html",
        {"form": form, "layout": layout, "used_by": selectors.campaigns_using_layout(layout)},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def layout_delete(request: HttpRequest, layout_id: int) -> HttpResponse:
    """GET says what deleting does, or which campaigns stop it; the POST does it."""
    layout = get_object_or_404(Template, pk=layout_id)
    if request.method == "POST":
        try:
            services.delete_layout(layout=layout)
        except services.LayoutInUse as exc:
            messages.error(request, f"Cannot delete: {exc}.")
            return redirect("layouts:edit", layout.pk)
        messages.success(request, f"Layout “{layout.name}” deleted.")
        return redirect("layouts:index")
    used_by = selectors.campaigns_using_layout(layout)
    return render(
        request,
        "campaigns/layout_confirm_delete.html",
        {"layout": layout, "used_by": used_by, "blocked": bool(used_by)},
    )


@require_POST
@staff_required
def layout_duplicate(request: HttpRequest, layout_id: int) -> HttpResponse:
    layout = get_object_or_404(Template, pk=layout_id)
    copy = layout_services.duplicate_layout(layout=layout)
    messages.success(request, f"Layout “{copy.name}” created from “{layout.name}”.")
    return redirect("layouts:edit", copy.pk)
