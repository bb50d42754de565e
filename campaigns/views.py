"""Marketer pages for campaigns: parse, authorise, call a service, render."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from bounces import selectors as bounce_selectors
from campaigns import listing, schedule, services, web_archive
from campaigns.ab_views import ab_test_context
from campaigns.forms import (
    CampaignForm,
    PreviewForm,
    RescheduleForm,
    StartForm,
    TestSendForm,
    percent,
)
from campaigns.models import Campaign
from campaigns.personalize import build_context
from campaigns.rendering import (
    RenderedMessage,
    TemplateValidationError,
    compiled_for,
    sample_context,
)
from campaigns.report_views import results_context
from campaigns.selectors import (
    audience_members,
    audience_size,
    campaign_stats,
    one_snapshot,
    template_warnings,
)
from delivery import selectors as delivery_selectors
from delivery.pipeline.scheduling import campaign_servers
from postino.charts import bar_chart
from postino.pagination import keyset_page
from postino.permissions import staff_required
from subscribers.models import Subscriber
from subscribers.services import normalize_email

PAGE_SIZE = 50
PREVIEW_MEMBERS = 25
# Statuses in which the numbers on the campaign page can still move.
LIVE_STATUSES = {Campaign.Status.RUNNING, Campaign.Status.PAUSED, Campaign.Status.SCHEDULED}


def _campaign(campaign_id: int) -> Campaign:
    return get_object_or_404(
        # The A/B test too: the page and every live poll show it.
        Campaign.objects.select_related("smtp_server", "template", "ab_test"),
        pk=campaign_id,
    )


def _error_text(exc: Exception) -> str:
    if isinstance(exc, TemplateValidationError):
        return "The templates have problems: " + "; ".join(
            f"{p.field} line {p.line}: {p.message}" if p.line else f"{p.field}: {p.message}"
            for p in exc.problems
        )
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc).capitalize() + "."


def _stats_payload(campaign: Campaign) -> dict[str, Any]:
    stats = campaign_stats(campaign)
    done = stats["sent"] + stats["failed"]
    return {
        **stats,
        "status": campaign.status,
        "status_label": campaign.get_status_display(),
        "status_reason": campaign.status_reason,
        "percent": round(100 * done / stats["total"]) if stats["total"] else 0,
        "live": campaign.status in LIVE_STATUSES,
        "started_at": _when(campaign.started_at),
        "finished_at": _when(campaign.finished_at),
    }


def _when(moment: datetime | None) -> str:
    # As the details card prints it ({{ …|date:"Y-m-d H:i" }}), in TIME_ZONE.
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


@require_GET
@staff_required
def campaign_index(request: HttpRequest) -> HttpResponse:
    after = request.GET.get("before", "")
    # Archived campaigns have their own tab: the default list is what is current.
    archived = request.GET.get("archived") == "1"
    tag = request.GET.get("tag", "").strip()
    query = request.GET.get("q", "").strip()[: listing.MAX_QUERY_LENGTH]
    campaigns = listing.campaign_index(archived=archived, tag=tag, query=query)
    page = keyset_page(
        campaigns, after=int(after) if after.isdigit() else None, size=PAGE_SIZE, descending=True
    )
    # The filters every link on the page keeps (pager, tabs, chips).
    kept = {"archived": "1" if archived else "", "tag": tag, "q": query}
    return render(
        request,
        "campaigns/campaign_index.html",
        {
            "page": page,
            "archived": archived,
            "tag": tag,
            "query": query,
            "tags": listing.tag_chips(),
            "filtered": bool(tag or query),
            "next_query": _query_string({**kept, "before": page.next_key or ""}),
            "tab_query": _query_string({**kept, "archived": ""}),
            "archived_tab_query": _query_string({**kept, "archived": "1"}),
            "untagged_query": _query_string({**kept, "tag": ""}),
        },
    )


def _query_string(params: dict[str, Any]) -> str:
    """The non-empty parameters as "?a=1&b=2" ("" when none), for links that keep filters."""
    kept = {key: value for key, value in params.items() if value not in ("", None)}
    return "?" + urlencode(kept) if kept else ""


@require_http_methods(["GET", "POST"])
@staff_required
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = CampaignForm(request.POST) if request.method == "POST" else CampaignForm.blank()
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.create_campaign(**form.service_kwargs(), actor=request.user)
        except TemplateValidationError as exc:
            form.add_template_problems(exc)
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, f"Campaign “{campaign.name}” saved as a draft.")
            _warn_about_templates(request, campaign)
            return redirect("campaigns:detail", campaign.pk)
    return render(request, "campaigns/campaign_form.html", {"form": form, "campaign": None})


def _warn_about_templates(request: HttpRequest, campaign: Campaign) -> None:
    # Saved, yet some members' data does not suit the template: say so now.
    for warning in template_warnings(campaign):
        messages.warning(request, warning)


@require_http_methods(["GET", "POST"])
@staff_required
def campaign_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    if not campaign.is_editable:
        messages.error(
            request, f"A {campaign.get_status_display().lower()} campaign cannot be edited."
        )
        return redirect("campaigns:detail", campaign.pk)
    if request.method == "POST":
        form = CampaignForm(request.POST)
    else:
        form = CampaignForm.for_campaign(campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_campaign(campaign=campaign, **form.service_kwargs())
        except TemplateValidationError as exc:
            form.add_template_problems(exc)
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.CampaignStateError as exc:
            messages.error(request, _error_text(exc))
            return redirect("campaigns:detail", campaign.pk)
        else:
            messages.success(request, "Campaign saved.")
            _warn_about_templates(request, campaign)
            return redirect("campaigns:detail", campaign.pk)
    # "Preview as": a few of the audience to pick from (any address can be typed).
    members = audience_members(campaign, limit=PREVIEW_MEMBERS)
    return render(
        request,
        "campaigns/campaign_form.html",
        {"form": form, "campaign": campaign, "preview_members": members},
    )


def _render_detail(
    request: HttpRequest,
    campaign: Campaign,
    *,
    test_form: TestSendForm | None = None,
    start_form: StartForm | None = None,
    reschedule_form: RescheduleForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        **_activity_context(campaign),
        "campaign": campaign,
        "lists": campaign.lists.all(),
        "segments": campaign.segments.all(),
        "excluded_segments": campaign.excluded_segments.all(),
        "servers": _server_shares(campaign),
        "thresholds": _thresholds(campaign),
        "stats": _stats_payload(campaign),
        "live_statuses": sorted(LIVE_STATUSES),
        "start_form": start_form or StartForm(),
        "reschedule_form": reschedule_form or RescheduleForm.for_campaign(campaign),
        "schedule_label": (
            schedule.describe(campaign.scheduled_at, campaign.schedule_timezone)
            if campaign.scheduled_at
            else ""
        ),
        "web_archive_url": _web_archive_url(campaign),
        # Before the snapshot the ledger is empty ("Total 0"): say who it would reach.
        "audience": audience_size(campaign) if campaign.is_editable else None,
        "test_form": test_form or TestSendForm(),
        **results_context(campaign),
    }
    return render(request, "campaigns/campaign_detail.html", context, status=status)


def _web_archive_url(campaign: Campaign) -> str:
    """The public web version's address, once it is public; "" before."""
    if not (campaign.public_archive and web_archive.archive_enabled()):
        return ""
    if campaign.status not in web_archive.ARCHIVE_STATUSES or campaign.started_at is None:
        return ""
    return reverse("archive:campaign", args=[campaign.pk])


def _server_shares(campaign: Campaign) -> list[dict[str, Any]]:
    """The servers the sender will use, with shares (``scheduling.campaign_servers``)."""
    servers = campaign_servers(campaign)
    total = sum(weight for _, weight in servers)
    return [
        {"server": server, "weight": weight, "share": round(100 * weight / total)}
        for server, weight in servers
    ]


def _thresholds(campaign: Campaign) -> dict[str, Any]:
    conf = settings.POSTINO
    rate = campaign.max_error_rate
    return {
        "rate_percent": percent(float(conf["MAX_ERROR_RATE"]) if rate is None else rate),
        "rate_is_default": rate is None,
        "min_sample": conf["ERROR_RATE_MIN_SAMPLE"],
        "errors": campaign.max_errors or conf["MAX_CONSECUTIVE_FAILURES"],
        "errors_is_default": campaign.max_errors is None,
    }


def _activity_context(campaign: Campaign) -> dict[str, Any]:
    points = [
        (minute.strftime("%H:%M"), count)
        for minute, count in delivery_selectors.campaign_sent_per_minute(campaign)
    ]
    return {
        "rate_chart": bar_chart(points, unit="messages"),
        "failures": delivery_selectors.recent_failures(campaign),
        "bounce_figures": bounce_selectors.campaign_bounce_figures(campaign.pk),
        **ab_test_context(campaign),
    }


@require_GET
@staff_required
def campaign_activity(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The chart and failures, as a fragment the campaign page refreshes while live."""
    campaign = get_object_or_404(Campaign.objects.select_related("ab_test"), pk=campaign_id)
    response = render(request, "campaigns/_activity.html", _activity_context(campaign))
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_required
def campaign_detail(request: HttpRequest, campaign_id: int) -> HttpResponse:
    with one_snapshot():  # the first figures agree too, as each poll's do
        return _render_detail(request, _campaign(campaign_id))


@require_GET
@staff_required
def campaign_stats_json(request: HttpRequest, campaign_id: int) -> JsonResponse:
    """Every live part of the campaign page, read at one moment, for one poll:
    status and controls, counts and progress, times, and the activity fragment
    (rate chart, failures, bounce figures), so they all change together."""
    with one_snapshot():
        campaign = get_object_or_404(Campaign.objects.select_related("ab_test"), pk=campaign_id)
        payload = _stats_payload(campaign)
        payload["activity_html"] = render_to_string(
            "campaigns/_activity.html", _activity_context(campaign), request=request
        )
    response = JsonResponse(payload)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@staff_required
def campaign_start(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """Start posts here twice: first to see who it reaches, then ``confirmed``.

    Without JavaScript too, nothing starts until a person has seen the count.
    """
    campaign = _campaign(campaign_id)
    form = StartForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, campaign, start_form=form, status=400)
    scheduled_at, zone_name = form.instant(), form.zone_name()
    try:
        if not form.cleaned_data["confirmed"]:
            services.check_startable(
                campaign=campaign, scheduled_at=scheduled_at, schedule_timezone=zone_name
            )
            return _render_start_confirmation(request, campaign, form)
        campaign = services.start_campaign(
            campaign=campaign, scheduled_at=scheduled_at, schedule_timezone=zone_name
        )
    except ValidationError as exc:
        if form.add_service_error(exc):
            return _render_detail(request, campaign, start_form=form, status=400)
        messages.error(request, "Cannot start: " + _error_text(exc))
    except (services.CampaignStateError, TemplateValidationError) as exc:
        messages.error(request, "Cannot start: " + _error_text(exc))
    else:
        if campaign.status == Campaign.Status.SCHEDULED:
            messages.success(request, f"Campaign scheduled for {_schedule_label(campaign)}.")
        else:
            messages.success(request, "Campaign started.")
    return redirect("campaigns:detail", campaign.pk)


def _render_start_confirmation(
    request: HttpRequest, campaign: Campaign, form: StartForm
) -> HttpResponse:
    scheduled_at = form.instant()
    context = {
        "campaign": campaign,
        "audience": audience_size(campaign),
        "servers": _server_shares(campaign),
        "scheduled_at": scheduled_at,
        "schedule_label": (
            schedule.describe(scheduled_at, form.zone_name()) if scheduled_at else ""
        ),
        # Posted back as typed: the wall-clock time and its zone.
        "scheduled_value": form.local_value(),
        "zone_value": form.zone_name(),
    }
    return render(request, "campaigns/campaign_start_confirm.html", context)


def _transition(request: HttpRequest, campaign_id: int, action: str) -> HttpResponse:
    campaign = _campaign(campaign_id)
    actions: dict[str, tuple[Callable[..., Campaign], str]] = {
        "pause": (
            services.pause_campaign,
            "Campaign paused. Messages already handed to the server finish; "
            "nothing else is sent until you resume.",
        ),
        "resume": (services.resume_campaign, "Campaign resumed."),
        "cancel": (services.cancel_campaign, "Campaign cancelled."),
        "unschedule": (
            services.unschedule_campaign,
            "Campaign unscheduled: it is a draft again, to edit and schedule when you like.",
        ),
    }
    service, done = actions[action]
    try:
        service(campaign=campaign)
    except (services.CampaignStateError, ValidationError) as exc:
        messages.error(request, f"Cannot {action}: {_error_text(exc)}")
    else:
        messages.success(request, done)
    return redirect("campaigns:detail", campaign.pk)


@require_POST
@staff_required
def campaign_pause(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _transition(request, campaign_id, "pause")


@require_POST
@staff_required
def campaign_resume(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _transition(request, campaign_id, "resume")


@require_POST
@staff_required
def campaign_cancel(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _transition(request, campaign_id, "cancel")


def _schedule_label(campaign: Campaign) -> str:
    assert campaign.scheduled_at is not None
    return schedule.describe(campaign.scheduled_at, campaign.schedule_timezone)


@require_POST
@staff_required
def campaign_reschedule(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """A new time (and zone) for a scheduled campaign."""
    campaign = _campaign(campaign_id)
    form = RescheduleForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, campaign, reschedule_form=form, status=400)
    try:
        campaign = services.reschedule_campaign(
            campaign=campaign, scheduled_at=form.instant(), schedule_timezone=form.zone_name()
        )
    except ValidationError as exc:
        if form.add_service_error(exc):
            return _render_detail(request, campaign, reschedule_form=form, status=400)
        messages.error(request, "Cannot reschedule: " + _error_text(exc))
    except services.CampaignStateError as exc:
        messages.error(request, "Cannot reschedule: " + _error_text(exc))
    else:
        messages.success(request, f"Schedule changed: starts {_schedule_label(campaign)}.")
    return redirect("campaigns:detail", campaign.pk)


@require_POST
@staff_required
def campaign_unschedule(request: HttpRequest, campaign_id: int) -> HttpResponse:
    return _transition(request, campaign_id, "unschedule")


@require_POST
@staff_required
def campaign_send_test(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    form = TestSendForm(request.POST)
    if form.is_valid():
        try:
            recipients = services.send_test(campaign=campaign, emails=form.cleaned_data["emails"])
        except TemplateValidationError as exc:
            form.add_error("emails", _error_text(exc))
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "Test sent to " + ", ".join(recipients) + ".")
            return redirect("campaigns:detail", campaign.pk)
    return _render_detail(request, campaign, test_form=form, status=400)


@require_GET
@staff_required
def campaign_preview(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    members = [
        (member["id"], member["email"])
        for member in audience_members(campaign, limit=PREVIEW_MEMBERS)
    ]
    form = PreviewForm(request.GET or None, members=members)
    subscriber: Subscriber | None = None
    if form.is_valid():
        subscriber, problem = _chosen_subscriber(
            form.cleaned_data["email"], form.cleaned_data["subscriber"]
        )
        if problem:
            form.add_error("email", problem)
    rendered: RenderedMessage | None = None
    render_error = None
    try:
        context = (
            build_context(campaign, subscriber)
            if subscriber
            else sample_context(campaign_name=campaign.name, campaign_subject=campaign.subject)
        )
        rendered = compiled_for(campaign).render(context)
    except TemplateValidationError as exc:
        render_error = _error_text(exc)
    return render(
        request,
        "campaigns/campaign_preview.html",
        {
            "campaign": campaign,
            "form": form,
            "subscriber": subscriber,
            "rendered": rendered,
            "render_error": render_error,
            "template_warnings": template_warnings(campaign),
        },
    )


def _chosen_subscriber(email: str, subscriber_id: int | None) -> tuple[Subscriber | None, str]:
    if email.strip():
        try:
            address = normalize_email(email)
        except ValidationError:
            return None, "Enter a valid email address."
        found = Subscriber.objects.filter(email=address).first()
        return found, "" if found else f"No subscriber with the address {address}."
    if subscriber_id is not None:
        found = Subscriber.objects.filter(pk=subscriber_id).first()
        return found, "" if found else "That subscriber no longer exists."
    return None, ""


@require_http_methods(["GET", "POST"])
@staff_required
def campaign_delete(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """GET explains what deleting does (or why it cannot); the POST (with CSRF) does it."""
    campaign = _campaign(campaign_id)
    if request.method == "POST":
        try:
            services.delete_campaign(campaign=campaign)
        except services.CampaignStateError as exc:
            messages.error(request, f"Cannot delete: {_error_text(exc)}")
            return redirect("campaigns:detail", campaign.pk)
        messages.success(request, f"Campaign “{campaign.name}” deleted.")
        return redirect("campaigns:index")
    has_ledger = campaign.deliveries.exists()
    deletable = campaign.status == Campaign.Status.DRAFT or (
        campaign.status == Campaign.Status.CANCELLED and not has_ledger
    )
    return render(
        request,
        "campaigns/campaign_confirm_delete.html",
        {"campaign": campaign, "blocked": not deletable},
    )


@require_POST
@staff_required
def campaign_archive(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    try:
        services.archive_campaign(campaign=campaign)
    except services.CampaignStateError as exc:
        messages.error(request, f"Cannot archive: {_error_text(exc)}")
    else:
        messages.success(
            request, "Campaign archived: it is listed under Archived, with its figures."
        )
    return redirect("campaigns:detail", campaign.pk)


@require_POST
@staff_required
def campaign_unarchive(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    try:
        services.unarchive_campaign(campaign=campaign)
    except services.CampaignStateError as exc:
        messages.error(request, f"Cannot unarchive: {_error_text(exc)}")
    else:
        messages.success(request, "Campaign unarchived: it is back in the campaign list.")
    return redirect("campaigns:detail", campaign.pk)


@require_POST
@staff_required
def campaign_duplicate(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = _campaign(campaign_id)
    copy = services.duplicate_campaign(campaign=campaign, actor=request.user)
    messages.success(request, f"Duplicated as “{copy.name}”, a new draft.")
    return redirect("campaigns:detail", copy.pk)
