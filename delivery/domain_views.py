"""Marketer pages for sending domains: DKIM keys, DNS records, live DNS checks.

Private keys go in (generated or pasted) and never come back out: no page
renders them, only the public DNS records derived from them.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from delivery import domains
from delivery.domain_forms import ImportKeyForm, KeyKindForm, SendingDomainForm
from delivery.domains import DnsCheck
from delivery.models import SendingDomain
from postino.permissions import staff_required


@require_GET
@staff_required
def domain_index(request: HttpRequest) -> HttpResponse:
    return render(request, "delivery/domains/index.html", {"domains": SendingDomain.objects.all()})


@require_http_methods(["GET", "POST"])
@staff_required
def domain_create(request: HttpRequest) -> HttpResponse:
    form = SendingDomainForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            sending_domain = domains.create_sending_domain(**form.service_kwargs())  # type: ignore[arg-type]
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(
                request, f"{sending_domain.domain} added. Publish the DNS records below."
            )
            return redirect("delivery:domain_detail", sending_domain.pk)
    return render(request, "delivery/domains/form.html", {"form": form})


def _detail(
    request: HttpRequest,
    sending_domain: SendingDomain,
    *,
    checks: list[DnsCheck] | None = None,
) -> HttpResponse:
    by_key = {check.record.key: check for check in checks or []}
    records = domains.dns_records(sending_domain)
    return render(
        request,
        "delivery/domains/detail.html",
        {
            "domain": sending_domain,
            "keys": domains.key_summary(sending_domain),
            "rows": [(record, by_key.get(record.key)) for record in records],
            "checked": checks is not None,
            "bounce_domain": domains.bounce_domain_for(sending_domain),
        },
    )


@require_GET
@staff_required
def domain_detail(request: HttpRequest, domain_id: int) -> HttpResponse:
    return _detail(request, get_object_or_404(SendingDomain, pk=domain_id))


@require_POST
@staff_required
def domain_check(request: HttpRequest, domain_id: int) -> HttpResponse:
    sending_domain = get_object_or_404(SendingDomain, pk=domain_id)
    return _detail(request, sending_domain, checks=domains.check_dns(sending_domain))


@require_http_methods(["GET", "POST"])
@staff_required
def domain_import(request: HttpRequest, domain_id: int) -> HttpResponse:
    sending_domain = get_object_or_404(SendingDomain, pk=domain_id)
    form = ImportKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            kind = domains.import_key(sending_domain=sending_domain, pem=form.pem_value())
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            label = "RSA" if kind == "rsa" else "Ed25519"
            messages.success(request, f"{label} key imported. Publish its new DNS record.")
            return redirect("delivery:domain_detail", sending_domain.pk)
    return render(request, "delivery/domains/import.html", {"domain": sending_domain, "form": form})


@require_POST
@staff_required
def domain_regenerate(request: HttpRequest, domain_id: int) -> HttpResponse:
    sending_domain = get_object_or_404(SendingDomain, pk=domain_id)
    form = KeyKindForm(request.POST)
    if form.is_valid():
        kind = form.cleaned_data["kind"]
        domains.regenerate_key(sending_domain=sending_domain, kind=kind)
        label = "RSA" if kind == "rsa" else "Ed25519"
        messages.success(request, f"New {label} key generated. Publish its new DNS record.")
    else:
        messages.error(request, "Choose which key to regenerate.")
    return redirect("delivery:domain_detail", sending_domain.pk)


@require_POST
@staff_required
def domain_delete(request: HttpRequest, domain_id: int) -> HttpResponse:
    sending_domain = get_object_or_404(SendingDomain, pk=domain_id)
    name = sending_domain.domain
    domains.delete_sending_domain(sending_domain=sending_domain)
    messages.success(request, f"{name} removed; its mail is no longer DKIM-signed.")
    return redirect("delivery:domain_index")
