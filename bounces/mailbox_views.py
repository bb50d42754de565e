"""Settings pages for bounce mailboxes (the IMAP/POP3 boxes the workers poll).

Parse, authorise, call one service, render. Staff only. The password is never
sent back to the browser: the form's widget does not render it.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bounces import mailbox, mailbox_services
from bounces.mailbox_forms import MailboxForm
from bounces.models import Mailbox
from postino.permissions import staff_required

STAGE_LABELS = {
    "dns": "DNS lookup",
    "tcp": "TCP connection",
    "tls": "TLS",
    "auth": "Authentication",
    "mailbox": "Opening the folder",
    "protocol": "Mail protocol",
}


@require_GET
@staff_required
def mailbox_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "bounces/mailboxes.html",
        {
            "mailboxes": list(Mailbox.objects.order_by("name")),
            "bounce_domain": settings.POSTINO["BOUNCE_DOMAIN"],
        },
    )


def _render_form(
    request: HttpRequest, form: MailboxForm, box: Mailbox | None, **extra: object
) -> HttpResponse:
    # The status card reads the saved row: an invalid POST must not show unsaved values.
    saved = Mailbox.objects.get(pk=box.pk) if box is not None else None
    return render(
        request,
        "bounces/mailboxes_form.html",
        {"form": form, "mailbox": saved, **extra},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def mailbox_create(request: HttpRequest) -> HttpResponse:
    form = MailboxForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            box = mailbox_services.create_mailbox(**form.service_kwargs())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Mailbox “{box.name}” added; test its connection below.")
            return redirect("bounces:mailbox_edit", box.pk)
    return _render_form(request, form, None)


@require_http_methods(["GET", "POST"])
@staff_required
def mailbox_edit(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    box = get_object_or_404(Mailbox, pk=mailbox_id)
    if request.method == "POST":
        form = MailboxForm(request.POST, editing=True)
        if form.is_valid():
            try:
                mailbox_services.update_mailbox(mailbox=box, **form.service_kwargs())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Mailbox “{box.name}” saved.")
                return redirect("bounces:mailbox_edit", box.pk)
    else:
        form = MailboxForm.for_mailbox(box)
    return _render_form(request, form, box)


@require_POST
@staff_required
def mailbox_test(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    box = get_object_or_404(Mailbox, pk=mailbox_id)
    # Network I/O, outside any transaction (the project has no ATOMIC_REQUESTS);
    # it reads the folder's message count and touches no message.
    check = mailbox.check_mailbox(box)
    return _render_form(
        request,
        MailboxForm.for_mailbox(box),
        box,
        check=check,
        check_stage=STAGE_LABELS.get(check.stage, check.stage.upper()),
    )


@require_POST
@staff_required
def mailbox_poll(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    box = get_object_or_404(Mailbox, pk=mailbox_id)
    if not mailbox_services.request_poll(mailbox=box):
        # The task skips disabled mailboxes; say so rather than queue a no-op.
        messages.warning(request, f"“{box.name}” is disabled: enable it to poll it.")
        return redirect("bounces:mailboxes")
    messages.success(
        request,
        f"Polling “{box.name}” now; refresh in a moment to see the result "
        "(a poll already running for it is not started twice).",
    )
    return redirect("bounces:mailboxes")


@require_POST
@staff_required
def mailbox_delete(request: HttpRequest, mailbox_id: int) -> HttpResponse:
    box = get_object_or_404(Mailbox, pk=mailbox_id)
    name = box.name
    mailbox_services.delete_mailbox(mailbox=box)
    messages.success(
        request, f"Mailbox “{name}” removed; the messages left in it are no longer read."
    )
    return redirect("bounces:mailboxes")
