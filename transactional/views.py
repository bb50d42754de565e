"""Marketer pages for transactional email: parse, authorise, call one service or
selector, render. Staff only; viewers read every page and change nothing
(``staff_required`` refuses their POSTs, the live preview's included)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from campaigns.rendering import RenderedMessage, TemplateValidationError
from postino.charts import series_chart
from postino.permissions import staff_required
from transactional import selectors, template_services
from transactional.credentials import (
    create_credential,
    revoke_credential,
    update_credential_limits,
)
from transactional.forms import (
    STARTER_HTML,
    STARTER_SAMPLE,
    CategoryForm,
    CredentialForm,
    CredentialLimitsForm,
    MessageFilterForm,
    PreviewForm,
    TemplateForm,
)
from transactional.models import Category, RelayCredential, TxMessage, TxTemplate
from transactional.rendering import check_template

PAGE_SIZE = 50
DAYS = 30
Status = TxMessage.Status
# Each status drawn with a badge colour the stylesheet already has.
BADGES: dict[str, str] = {
    Status.QUEUED: "scheduled",
    Status.SENDING: "running",
    Status.SENT: "finished",
    Status.DEFERRED: "paused",
    Status.BOUNCED: "cancelled",
    Status.FAILED: "cancelled",
    Status.REFUSED: "unconfirmed",
}
CHARTED = (
    ("Sent", (Status.SENT,)),
    ("Bounced", (Status.BOUNCED,)),
    ("Failed", (Status.FAILED,)),
    ("Refused", (Status.REFUSED,)),
)


def _relay_settings() -> dict[str, Any]:
    return {
        "relay_host": settings.POSTINO["SMTP_RELAY_HOST"],
        "relay_port": settings.POSTINO["SMTP_RELAY_PORT"],
    }


# --- the section ----------------------------------------------------------------


@require_GET
@staff_required
def index(request: HttpRequest) -> HttpResponse:
    volume = selectors.volume_by_status()
    return render(
        request,
        "transactional/index.html",
        {
            "volume": [(row, BADGES[row.status]) for row in volume],
            "today_total": sum(row.today for row in volume),
            "week_total": sum(row.week for row in volume),
            "api_url": f"{settings.BASE_URL}/api/v1/tx",
            "first_template": TxTemplate.objects.only("id").order_by("id").first(),
            **_relay_settings(),
        },
    )


# --- templates ------------------------------------------------------------------


@require_GET
@staff_required
def template_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "transactional/template_index.html",
        {"templates": selectors.templates_with_volume(DAYS), "days": DAYS},
    )


def _preview(template_fields: dict[str, Any]) -> tuple[RenderedMessage | None, list[Any]]:
    try:
        return check_template(**template_fields), []
    except TemplateValidationError as exc:
        return None, exc.problems


def _render_form(
    request: HttpRequest, form: TemplateForm, template: TxTemplate | None, status: int = 200
) -> HttpResponse:
    # The first rendering is the server's, so the page shows a preview before
    # (or without) JavaScript; tx_preview.js keeps it live from there.
    fields = form.data if form.is_bound else form.initial
    rendered = None
    preview = PreviewForm(
        {name: fields.get(name) or "" for name in ("subject", "html", "text", "sample_data")}
    )
    if preview.is_valid():
        rendered, _ = _preview(preview.cleaned_data)
    return render(
        request,
        "transactional/template_form.html",
        {"form": form, "template": template, "rendered": rendered},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def template_create(request: HttpRequest) -> HttpResponse:
    return _template_form(request, None)


@require_http_methods(["GET", "POST"])
@staff_required
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    return _template_form(request, get_object_or_404(TxTemplate, pk=template_id))


def _template_form(request: HttpRequest, template: TxTemplate | None) -> HttpResponse:
    done = "created" if template is None else "saved"
    if request.method == "POST":
        form = TemplateForm(request.POST)
    elif template is None:
        form = TemplateForm(initial={"html": STARTER_HTML, "sample_data": STARTER_SAMPLE})
    else:
        form = TemplateForm(initial=TemplateForm.initial_for(template))
    if request.method == "POST" and form.is_valid():
        try:
            if template is None:
                template = template_services.create_template(**form.cleaned_data)
            else:
                template_services.update_template(template=template, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except TemplateValidationError as exc:
            form.add_template_problems(exc)
        else:
            messages.success(request, f"Template “{template.name}” {done}.")
            return redirect("transactional:template_detail", template.pk)
    return _render_form(request, form, template, status=400 if form.errors else 200)


@require_POST
@staff_required
def template_preview(request: HttpRequest) -> JsonResponse:
    """The template form's fields rendered with its sample data; saves nothing."""
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return JsonResponse({"ok": False, "errors": form.problems()})
    rendered, problems = _preview(form.cleaned_data)
    if rendered is None:
        errors = [
            {
                "field": "sample_data" if p.field == "data" else p.field,
                "line": p.line,
                "message": p.message,
            }
            for p in problems
        ]
        return JsonResponse({"ok": False, "errors": errors})
    return JsonResponse(
        {
            "ok": True,
            "subject": rendered.subject,
            "html": rendered.html,
            "text": rendered.text,
            "errors": [],
        }
    )


@require_GET
@staff_required
def template_detail(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(TxTemplate.objects.select_related("category"), pk=template_id)
    figures = selectors.template_figures(template, DAYS)
    chart = series_chart(
        [day.strftime("%b %d") for day in figures.dates],
        [
            (name, [sum(v) for v in zip(*(figures.per_day[s] for s in statuses), strict=True)])
            for name, statuses in CHARTED
        ],
        unit="messages",
        stacked=True,
        height=120,
    )
    rendered, problems = _preview(
        {
            "subject": template.subject,
            "html": template.html,
            "text": template.text,
            "sample_data": template.sample_data,
        }
    )
    return render(
        request,
        "transactional/template_detail.html",
        {
            "template": template,
            "figures": figures,
            "chart": chart,
            "rendered": rendered,
            "problems": problems,
            "sample_json": json.dumps(template.sample_data, indent=2, ensure_ascii=False),
            "log_url": _log_url(template=template.pk),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    template = get_object_or_404(TxTemplate, pk=template_id)
    if request.method == "POST":
        template_services.delete_template(template=template)
        messages.success(
            request, f"Template “{template.name}” deleted; its messages stay in the log."
        )
        return redirect("transactional:template_index")
    return render(request, "transactional/template_confirm_delete.html", {"template": template})


# --- categories -----------------------------------------------------------------


@require_GET
@staff_required
def category_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "transactional/category_index.html",
        {"categories": selectors.categories_with_usage()},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def category_create(request: HttpRequest) -> HttpResponse:
    return _category_form(request, None)


@require_http_methods(["GET", "POST"])
@staff_required
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    return _category_form(request, get_object_or_404(Category, pk=category_id))


def _category_form(request: HttpRequest, category: Category | None) -> HttpResponse:
    if request.method == "POST":
        form = CategoryForm(request.POST)
    elif category is not None:
        form = CategoryForm(
            initial={
                "name": category.name,
                "description": category.description,
                "marketing": category.marketing,
                "exempt_from_unsubscribes": category.exempt_from_unsubscribes,
            }
        )
    else:
        form = CategoryForm()
    if request.method == "POST" and form.is_valid():
        try:
            if category is None:
                saved = template_services.create_category(**form.cleaned_data)
            else:
                saved = template_services.update_category(category=category, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Category “{saved.name}” saved.")
            return redirect("transactional:category_index")
    return render(
        request,
        "transactional/category_form.html",
        {"form": form, "category": category},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def category_delete(request: HttpRequest, category_id: int) -> HttpResponse:
    category = get_object_or_404(Category, pk=category_id)
    if request.method == "POST":
        template_services.delete_category(category=category)
        messages.success(request, f"Category “{category.name}” deleted.")
        return redirect("transactional:category_index")
    return render(
        request,
        "transactional/category_confirm_delete.html",
        {"category": category, "template_count": category.templates.count()},
    )


# --- relay credentials ----------------------------------------------------------


@require_GET
@staff_required
def credential_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "transactional/credential_index.html",
        {"credentials": selectors.credential_list(), **_relay_settings()},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def credential_create(request: HttpRequest) -> HttpResponse:
    form = CredentialForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = create_credential(
                name=form.cleaned_data["name"],
                created_by=request.user,
                **form.service_arguments(),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            # Rendered in this answer, never redirected to: the password is in
            # no URL, session or later page, and the answer is not cached.
            response = render(
                request,
                "transactional/credential_created.html",
                {"credential": new.credential, "password": new.password, **_relay_settings()},
            )
            add_never_cache_headers(response)
            return response
    return render(
        request,
        "transactional/credential_form.html",
        {"form": form, "credential": None},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def credential_edit(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = get_object_or_404(RelayCredential, pk=credential_id)
    if request.method == "POST":
        form = CredentialLimitsForm(request.POST)
        if form.is_valid():
            try:
                update_credential_limits(credential=credential, **form.service_arguments())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Limits of “{credential.name}” saved.")
                return redirect("transactional:credential_index")
    else:
        form = CredentialLimitsForm(initial=CredentialLimitsForm.initial_for(credential))
    return render(
        request,
        "transactional/credential_form.html",
        {"form": form, "credential": credential},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def credential_revoke(request: HttpRequest, credential_id: int) -> HttpResponse:
    credential = get_object_or_404(RelayCredential, pk=credential_id)
    if request.method == "POST":
        revoke_credential(credential)
        messages.success(request, f"“{credential.name}” is revoked: its login stops working now.")
        return redirect("transactional:credential_index")
    return render(
        request,
        "transactional/credential_confirm_revoke.html",
        {"credential": credential, "blocked": not credential.active},
    )


# --- the message log ------------------------------------------------------------


def _log_url(**filters: Any) -> str:
    return f"{reverse('transactional:message_index')}?{urlencode(filters)}"


@require_GET
@staff_required
def message_index(request: HttpRequest) -> HttpResponse:
    filters = MessageFilterForm(request.GET)
    rows = selectors.message_log(**filters.filters())
    page = selectors.message_page(
        rows, after=filters.cleaned_data.get("after") or "", size=PAGE_SIZE
    )
    kept = filters.kept()
    return render(
        request,
        "transactional/message_index.html",
        {
            "filters": filters,
            "rows": [(message, BADGES[message.status]) for message in page.items],
            "page": page,
            "is_filtered": bool(kept),
            "keep": urlencode(kept),
        },
    )


@require_GET
@staff_required
def message_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    detail = selectors.message_detail(public_id)
    if detail is None:
        raise Http404("No such message.")
    return render(
        request,
        "transactional/message_detail.html",
        {"detail": detail, "message": detail.message, "badge": BADGES[detail.message.status]},
    )
