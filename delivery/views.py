"""Marketer pages for SMTP servers and the development Outbox."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery import services
from delivery.forms import SmtpServerForm
from delivery.models import CaughtMessage, SmtpServer
from postino.permissions import mailcatcher_required, staff_required
from postino.views import keyset_page

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
    return render(request, "delivery/smtp_index.html", {"servers": SmtpServer.objects.all()})


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
    return render(request, "delivery/smtp_form.html", {"form": form, "server": None})


@require_http_methods(["GET", "POST"])
@staff_required
def smtp_edit(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_object_or_404(SmtpServer, pk=server_id)
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
    return render(request, "delivery/smtp_form.html", {"form": form, "server": server})


@require_POST
@staff_required
def smtp_test(request: HttpRequest, server_id: int) -> HttpResponse:
    server = get_object_or_404(SmtpServer, pk=server_id)
    check = services.check_smtp_server(server)
    return render(
        request,
        "delivery/smtp_form.html",
        {
            "form": SmtpServerForm.for_server(server),
            "server": server,
            "check": check,
            "check_stage": STAGE_LABELS.get(check.stage, check.stage.upper()),
        },
    )


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
        CaughtMessage.objects.defer("raw"),
        after=int(before) if before.isdigit() else None,
        size=OUTBOX_PAGE_SIZE,
        descending=True,
    )
    return render(request, "delivery/outbox_index.html", {"page": page})


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
