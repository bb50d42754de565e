"""Marketer pages for sending servers (SMTP and ESP), recipient-domain limits and the
development Outbox."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery import services
from delivery.esp_catalog import ESPS
from delivery.forms import DomainLimitForm, EspServerForm, SmtpServerForm
from delivery.limit_selectors import effective_daily_limit, utc_today, warmup_ramp
from delivery.mailcatcher import decoded_from, with_header_prefix
from delivery.models import CaughtMessage, DomainLimit, SmtpServer
from delivery.selectors import (
    campaigns_using_server,
    chosen_system_mail_server,
    system_mail_server,
)
from postino.pagination import keyset_page
from postino.permissions import mailcatcher_required, staff_required

OUTBOX_PAGE_SIZE = 50
STAGE_LABELS = {
    "dns": "DNS lookup",
    "tcp": "TCP connection",
    "tls": "TLS",
    "smtp": "SMTP conversation",
    "auth": "Authentication",
}


@require_GET
@staff_required
def smtp_index(request: HttpRequest) -> HttpResponse:
    # Both kinds of server; the effective limit is computed in Python from the
    # row: one query in all.
    servers = list(SmtpServer.objects.all())
    today = utc_today()
    rows = [(server, effective_daily_limit(server, today=today)) for server in servers]
    return render(request, "delivery/smtp_index.html", {"servers": servers, "rows": rows})


def _limits_context(server: SmtpServer | None) -> dict[str, object]:
    """For a saved server, its limits as the workers see them today."""
    if server is None:
        return {}
    # Read back from the database: an invalid POST must not show unsaved values.
    saved = SmtpServer.objects.get(pk=server.pk)
    today = utc_today()
    return {
        "today": today,
        "effective_daily_limit": effective_daily_limit(saved, today=today),
        "ramp": warmup_ramp(saved, today=today),
    }


def _render_form(
    request: HttpRequest,
    form: SmtpServerForm,
    server: SmtpServer | None,
    **extra: object,
) -> HttpResponse:
    """The SMTP server's add/edit page."""
    context: dict[str, object] = {"form": form, "server": server, **_limits_context(server)}
    return render(request, "delivery/smtp_form.html", {**context, **extra})


def _render_esp_form(
    request: HttpRequest, form: EspServerForm, server: SmtpServer | None
) -> HttpResponse:
    """The ESP channel's add/edit page, with the settings each ESP takes."""
    specs = sorted(ESPS.items(), key=lambda item: item[1].label)
    context = {"form": form, "server": server, "esp_specs": specs, **_limits_context(server)}
    return render(request, "delivery/esp_form.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def smtp_create(request: HttpRequest) -> HttpResponse:
    form = SmtpServerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            server = services.create_smtp_server(**form.service_kwargs())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"SMTP server “{server.name}” added.")
            return redirect("delivery:smtp_edit", server.pk)
    return _render_form(request, form, None)


@require_http_methods(["GET", "POST"])
@staff_required
def esp_create(request: HttpRequest) -> HttpResponse:
    form = EspServerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            server = services.create_esp_server(**form.service_kwargs())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"ESP channel “{server.name}” added.")
            return redirect("delivery:smtp_edit", server.pk)
    return _render_esp_form(request, form, None)


@require_http_methods(["GET", "POST"])
@staff_required
def smtp_edit(request: HttpRequest, server_id: int) -> HttpResponse:
    """Edit either kind of server: each has its own form, at one address."""
    server = get_object_or_404(SmtpServer, pk=server_id)
    if server.kind == SmtpServer.Kind.ESP:
        return _esp_edit(request, server)
    if request.method == "POST":
        form = SmtpServerForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.update_smtp_server(server=server, **form.service_kwargs())  # type: ignore[arg-type]
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"SMTP server “{server.name}” saved.")
                return redirect("delivery:smtp_edit", server.pk)
    else:
        form = SmtpServerForm.for_server(server)
    return _render_form(request, form, server)


def _esp_edit(request: HttpRequest, server: SmtpServer) -> HttpResponse:
    if request.method == "POST":
        form = EspServerForm(request.POST, editing=True)
        if form.is_valid():
            try:
                services.update_esp_server(server=server, **form.service_kwargs())  # type: ignore[arg-type]
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"ESP channel “{server.name}” saved.")
                return redirect("delivery:smtp_edit", server.pk)
    else:
        form = EspServerForm.for_server(server)
    return _render_esp_form(request, form, server)


@require_POST
@staff_required
def smtp_test(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_object_or_404(SmtpServer, pk=server_id)
    try:
        check = services.check_smtp_server(server)
    except services.WrongServerKind as exc:
        messages.error(request, exc.messages[0])
        return redirect("delivery:smtp_edit", server.pk)
    return _render_form(
        request,
        SmtpServerForm.for_server(server),
        server,
        check=check,
        check_stage=STAGE_LABELS.get(check.stage, check.stage.upper()),
    )


@require_GET
@staff_required
def domain_limit_index(request: HttpRequest) -> HttpResponse:
    return render(
        request, "delivery/domain_limits.html", {"limits": DomainLimit.objects.order_by("domain")}
    )


@require_http_methods(["GET", "POST"])
@staff_required
def domain_limit_create(request: HttpRequest) -> HttpResponse:
    form = DomainLimitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            domain_limit = services.create_domain_limit(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Limit for {domain_limit.domain} added.")
            return redirect("delivery:domain_limit_index")
    return render(request, "delivery/domain_limits_form.html", {"form": form, "limit": None})


@require_http_methods(["GET", "POST"])
@staff_required
def domain_limit_edit(request: HttpRequest, limit_id: int) -> HttpResponse:
    domain_limit = get_object_or_404(DomainLimit, pk=limit_id)
    if request.method == "POST":
        form = DomainLimitForm(request.POST)
        if form.is_valid():
            try:
                services.update_domain_limit(domain_limit=domain_limit, **form.cleaned_data)
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Limit for {domain_limit.domain} saved.")
                return redirect("delivery:domain_limit_index")
    else:
        form = DomainLimitForm.for_limit(domain_limit)
    return render(
        request, "delivery/domain_limits_form.html", {"form": form, "limit": domain_limit}
    )


@require_POST
@staff_required
def domain_limit_delete(request: HttpRequest, limit_id: int) -> HttpResponse:
    domain_limit = get_object_or_404(DomainLimit, pk=limit_id)
    domain = domain_limit.domain
    services.delete_domain_limit(domain_limit=domain_limit)
    messages.success(request, f"Limit for {domain} removed: it is now limited by the servers only.")
    return redirect("delivery:domain_limit_index")


def _parse(message: CaughtMessage) -> EmailMessage:
    parsed = BytesParser(policy=policy.default).parsebytes(bytes(message.raw))
    assert isinstance(parsed, EmailMessage)
    return parsed


def _part(parsed: EmailMessage, subtype: str) -> str | None:
    part = parsed.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return str(part.get_content())
    except (LookupError, ValueError):
        payload = part.get_payload(decode=True)
        return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else None


@require_GET
@staff_required
@mailcatcher_required
def outbox_index(request: HttpRequest) -> HttpResponse:
    before = request.GET.get("before", "")
    page = keyset_page(
        with_header_prefix(CaughtMessage.objects.all()),
        after=int(before) if before.isdigit() else None,
        size=OUTBOX_PAGE_SIZE,
        descending=True,
    )
    # The From header people see, not the envelope (VERP bounce) sender.
    rows = [(message, decoded_from(bytes(message.head))) for message in page.items]  # type: ignore[attr-defined]
    return render(request, "delivery/outbox_index.html", {"page": page, "rows": rows})


@require_GET
@staff_required
@mailcatcher_required
def outbox_detail(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(CaughtMessage, pk=message_id)
    parsed = _parse(message)
    return render(
        request,
        "delivery/outbox_detail.html",
        {
            "message": message,
            "from_header": decoded_from(bytes(message.raw)),
            "headers": [(name, str(value)) for name, value in parsed.items()],
            "html": _part(parsed, "html"),
            "text": _part(parsed, "plain"),
        },
    )


@require_GET
@staff_required
@mailcatcher_required
def outbox_raw(request: HttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(CaughtMessage, pk=message_id)
    return HttpResponse(bytes(message.raw), content_type="text/plain; charset=utf-8")


@require_POST
@staff_required
@mailcatcher_required
def outbox_clear(request: HttpRequest) -> HttpResponse:
    deleted = services.clear_outbox()
    messages.success(request, f"Outbox cleared ({deleted} messages removed).")
    return redirect("delivery:outbox")


@require_http_methods(["GET", "POST"])
@staff_required
def server_delete(request: HttpRequest, server_id: int) -> HttpResponse:
    """Delete an SMTP server or ESP channel: GET names the campaigns that stop it, if
    any; the POST (with CSRF) deletes."""
    server = get_object_or_404(SmtpServer, pk=server_id)
    if request.method == "POST":
        try:
            services.delete_server(server=server)
        except services.ServerInUse as exc:
            messages.error(request, f"Cannot delete: {exc}.")
            return redirect("delivery:smtp_edit", server.pk)
        messages.success(request, f"“{server.name}” deleted.")
        return redirect("delivery:smtp_index")
    used_by = campaigns_using_server(server.pk)
    return render(
        request,
        "delivery/server_confirm_delete.html",
        {"server": server, "used_by": used_by, "blocked": bool(used_by)},
    )


class SystemMailForm(forms.Form):
    server = forms.ModelChoiceField(
        label="Send Postino's own mail through",
        queryset=SmtpServer.objects.order_by("name"),
        required=False,
        empty_label="— the default —",
        help_text="Confirmation emails, reminders and data exports. They count against the "
        "server's rate and quotas, are signed with its domain's DKIM and their bounces are "
        "handled like a campaign's.",
    )


@require_http_methods(["GET", "POST"])
@staff_required
def system_mail(request: HttpRequest) -> HttpResponse:
    form = SystemMailForm(request.POST or None, initial={"server": chosen_system_mail_server()})
    if request.method == "POST" and form.is_valid():
        services.set_system_mail_server(form.cleaned_data["server"])
        messages.success(request, "System mail settings saved.")
        return redirect("delivery:system_mail")
    return render(
        request,
        "delivery/system_mail.html",
        {
            "form": form,
            "effective": system_mail_server(),
            "fallback_name": settings.POSTINO["CONFIRMATION_SMTP_SERVER"],
        },
    )
