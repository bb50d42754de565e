"""Marketer pages for bounces, complaints, suppressions and the bounce policy.

Parse, authorise, call one selector or service, render. Staff only.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bounces import selectors, services
from bounces.forms import BounceFilterForm, PolicyForm, SuppressionFilterForm, SuppressionForm
from bounces.models import BounceEvent, BouncePolicy, Suppression
from postino.charts import bar_chart
from postino.pagination import keyset_page
from postino.permissions import staff_required

PAGE_SIZE = 50
DAYS_CHARTED = 30
CHART_TITLES: dict[str, str] = {
    BounceEvent.Kind.HARD: "Hard bounces",
    BounceEvent.Kind.SOFT: "Soft bounces",
    BounceEvent.Kind.COMPLAINT: "Complaints",
}


@require_GET
@staff_required
def bounce_index(request: HttpRequest) -> HttpResponse:
    filters = BounceFilterForm(request.GET)
    filters.is_valid()
    kind = filters.value("kind") or ""
    source = filters.value("source") or ""
    query = filters.value("q") or ""
    campaign_id = filters.value("campaign")
    events = selectors.bounce_log(kind=kind, source=source, query=query, campaign_id=campaign_id)
    page = keyset_page(events, after=filters.value("before"), size=PAGE_SIZE, descending=True)
    per_day = selectors.bounces_per_day(DAYS_CHARTED)
    charts = [
        {
            "kind": kind_value,
            "title": CHART_TITLES[kind_value],
            "chart": bar_chart(
                [(day.strftime("%b %d"), n) for day, n in points], unit="reports", height=60
            ),
        }
        for kind_value, points in per_day.items()
    ]
    keep = {"kind": kind, "source": source, "q": query, "campaign": campaign_id or ""}
    return render(
        request,
        "bounces/bounce_index.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "campaign_id": campaign_id,
            "is_filtered": any(keep.values()),
            "keep": urlencode({k: v for k, v in keep.items() if v}),
            "charts": charts,
            "days_charted": DAYS_CHARTED,
        },
    )


@require_GET
@staff_required
def bounce_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    event = get_object_or_404(
        BounceEvent.objects.select_related("campaign", "subscriber"), pk=event_id
    )
    return render(
        request,
        "bounces/bounce_detail.html",
        {
            "event": event,
            "suppressions": selectors.suppressions_caused_by(event),
            "others": selectors.other_reports(event),
        },
    )


def _render_suppressions(
    request: HttpRequest, form: SuppressionForm | None = None, status: int = 200
) -> HttpResponse:
    filters = SuppressionFilterForm(request.GET)
    filters.is_valid()
    query = filters.value("q") or ""
    include_lifted = bool(filters.value("lifted"))
    rows = selectors.suppression_list(query=query, include_lifted=include_lifted)
    page = keyset_page(rows, after=filters.value("before"), size=PAGE_SIZE, descending=True)
    keep = {"q": query, "lifted": "1" if include_lifted else ""}
    return render(
        request,
        "bounces/suppression_index.html",
        {
            "page": page,
            "query": query,
            "include_lifted": include_lifted,
            "keep": urlencode({k: v for k, v in keep.items() if v}),
            "form": form or SuppressionForm(),
        },
        status=status,
    )


@require_GET
@staff_required
def suppression_index(request: HttpRequest) -> HttpResponse:
    return _render_suppressions(request)


@require_POST
@staff_required
def suppression_add(request: HttpRequest) -> HttpResponse:
    form = SuppressionForm(request.POST)
    if form.is_valid():
        try:
            suppression = services.add_manual_suppression(
                email=form.cleaned_data["email"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"{suppression.email} is suppressed: nothing will be sent.")
            return redirect("bounces:suppressions")
    return _render_suppressions(request, form=form, status=400)


@require_POST
@staff_required
def suppression_lift(request: HttpRequest, suppression_id: int) -> HttpResponse:
    suppression = get_object_or_404(Suppression, pk=suppression_id)
    was_active = suppression.is_active
    services.lift_suppression(suppression=suppression, actor=request.user)
    if was_active:
        messages.success(request, f"Lifted: {suppression.email} can be sent to again.")
    else:
        messages.info(request, f"The suppression of {suppression.email} was already lifted.")
    back = request.POST.get("next", "")
    # Only back to our own list (keeps the search); never an arbitrary URL.
    if back.startswith(reverse("bounces:suppressions")):
        return redirect(back)
    return redirect("bounces:suppressions")


@require_http_methods(["GET", "POST"])
@staff_required
def policy_edit(request: HttpRequest) -> HttpResponse:
    policy = BouncePolicy.current()
    if request.method == "POST":
        form = PolicyForm(request.POST)
        if form.is_valid():
            try:
                services.update_policy(**form.service_kwargs())
            except ValidationError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, "Bounce policy saved; it applies to the next report.")
                return redirect("bounces:policy")
    else:
        form = PolicyForm.for_policy(policy)
    return render(
        request,
        "bounces/policy_form.html",
        {"form": form, "policy": policy},
        status=400 if form.is_bound else 200,
    )
