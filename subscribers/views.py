"""Marketer pages for lists and subscribers: parse, authorise, call a service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from postino.downloads import csv_download
from postino.pagination import keyset_page
from postino.permissions import staff_required
from subscribers import browse, bulk, consent, selectors, services
from subscribers.blocklist import selectors as blocklist_selectors
from subscribers.forms import (
    BulkActionForm,
    ListForm,
    MembersFilterForm,
    SubscriberEditForm,
    SubscriberForm,
    SubscriberSearchForm,
)
from subscribers.models import BulkAction, MailingList, Segment, Subscriber, Subscription

PAGE_SIZE = 50


@require_GET
@staff_required
def list_index(request: HttpRequest) -> HttpResponse:
    return render(request, "subscribers/list_index.html", {"lists": selectors.lists_with_counts()})


@require_http_methods(["GET", "POST"])
@staff_required
def list_create(request: HttpRequest) -> HttpResponse:
    form = ListForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            mailing_list = services.create_list(**form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.DuplicateList:
            form.add_error("name", "A list with this name already exists.")
        else:
            messages.success(request, f"List “{mailing_list.name}” created.")
            return redirect("subscribers:list_detail", mailing_list.pk)
    return render(request, "subscribers/list_form.html", {"form": form})


@require_GET
@staff_required
def list_detail(request: HttpRequest, list_id: int) -> HttpResponse:
    mailing_list = get_object_or_404(selectors.lists_with_counts(), pk=list_id)
    filters = MembersFilterForm(request.GET)
    filters.is_valid()
    status = filters.cleaned_data.get("status") or ""
    members = selectors.list_members(mailing_list)
    if status:
        members = members.filter(status=status)
    page = keyset_page(
        members, key="subscriber_id", after=filters.cleaned_data.get("after"), size=PAGE_SIZE
    )
    return render(
        request,
        "subscribers/list_detail.html",
        {"list": mailing_list, "page": page, "status": status, "filters": filters},
    )


@require_GET
@staff_required
def list_export(request: HttpRequest, list_id: int) -> StreamingHttpResponse:
    mailing_list = get_object_or_404(MailingList, pk=list_id)
    return csv_download(selectors.export_list(mailing_list), f"list-{mailing_list.pk}.csv")


@require_GET
@staff_required
def subscriber_index(request: HttpRequest) -> HttpResponse:
    lists = list(MailingList.objects.order_by("name").values_list("pk", "name"))
    segments = list(Segment.objects.order_by("name").values_list("pk", "name"))
    search = SubscriberSearchForm(request.GET, lists=lists, segments=segments)
    filters = search.filters()
    matches = browse.filtered_subscribers(filters)
    # A count per shown row (a correlated subquery), not a GROUP BY over the
    # whole join: only the page's fifty rows are counted.
    active_lists = (
        Subscription.objects.filter(subscriber=OuterRef("pk"))
        .exclude(status=Subscription.Status.UNSUBSCRIBED)
        .order_by()
        .values("subscriber")
        .annotate(n=Count("pk"))
        .values("n")
    )
    subscribers = selectors.with_states(matches).annotate(
        list_count=Coalesce(Subquery(active_lists), 0)
    )
    after = search.cleaned_data.get("after") if search.is_valid() else None
    page = keyset_page(subscribers, after=after, size=PAGE_SIZE)
    # A first page that is not full holds every match: no need to count them
    # again (for a rare search term that would read the table a second time).
    if after is None and page.next_key is None:
        count = browse.MatchCount(len(page.items), True)
    else:
        count = browse.count_matches(matches)
    params = request.GET.copy()
    params.pop("after", None)
    return render(
        request,
        "subscribers/subscriber_index.html",
        {
            "page": page,
            "query": filters.query,
            "filtered": not filters.empty,
            "search": search,
            "count": count,
            "params": params.urlencode(),
            "bulk_form": BulkActionForm(
                lists=lists,
                initial={
                    "q": filters.query,
                    "list": filters.list_id,
                    "status": filters.status,
                    "segment": filters.segment_id,
                },
            ),
        },
    )


@require_POST
@staff_required
def bulk_start(request: HttpRequest) -> HttpResponse:
    form = BulkActionForm(request.POST, lists=list(MailingList.objects.values_list("pk", "name")))
    if not form.is_valid():
        messages.error(request, "Tick the box to confirm the bulk action, and choose its list.")
        return redirect("subscribers:index")
    try:
        action = bulk.start(
            kind=form.cleaned_data["kind"],
            filters=form.filters(),
            mailing_list=form.chosen_list(),
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("subscribers:index")
    return redirect("subscribers:bulk_detail", action.pk)


def _bulk_context(action: BulkAction) -> dict[str, object]:
    return {
        "action": action,
        "filters": browse.describe(browse.SubscriberFilter.from_dict(action.filters)),
    }


@require_GET
@staff_required
def bulk_detail(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(BulkAction.objects.select_related("mailing_list"), pk=action_id)
    return render(request, "subscribers/bulk_detail.html", _bulk_context(action))


@require_GET
@staff_required
def bulk_progress(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(BulkAction.objects.select_related("mailing_list"), pk=action_id)
    return render(request, "subscribers/bulk_live.html", _bulk_context(action))


@require_POST
@staff_required
def bulk_cancel(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(BulkAction, pk=action_id)
    try:
        bulk.cancel(action=action)
    except bulk.BulkActionStateError as exc:
        messages.error(request, f"Cannot cancel: {exc}.")
    return redirect("subscribers:bulk_detail", action.pk)


@require_http_methods(["GET", "POST"])
@staff_required
def subscriber_create(request: HttpRequest) -> HttpResponse:
    initial = {}
    if request.GET.get("list", "").isdigit():
        initial["lists"] = [int(request.GET["list"])]
    form = SubscriberForm(request.POST or None, initial=initial)
    duplicate_id = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscriber = services.create_subscriber(
                email=data["email"],
                name=data["name"],
                attributes=data["attributes"],
                lists=data["lists"],
                preconfirm=data["preconfirm"],
                origin=consent.admin(request),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.DuplicateSubscriber as exc:
            form.add_error("email", f"A subscriber with the address {exc.email} already exists.")
            duplicate_id = exc.existing_id
        else:
            messages.success(request, f"Subscriber {subscriber.email} added.")
            return redirect("subscribers:detail", subscriber.pk)
    return render(
        request, "subscribers/subscriber_form.html", {"form": form, "duplicate_id": duplicate_id}
    )


@require_GET
@staff_required
def subscriber_detail(request: HttpRequest, subscriber_id: int) -> HttpResponse:
    subscriber = get_object_or_404(
        selectors.with_states(Subscriber.objects.all()), pk=subscriber_id
    )
    return render(
        request,
        "subscribers/subscriber_detail.html",
        {
            "subscriber": subscriber,
            "subscriptions": selectors.subscriptions_of(subscriber),
            # with_states found one already: only then fetch its details.
            "suppression": selectors.active_suppression(subscriber.email)
            if getattr(subscriber, "suppression_reason", None)
            else None,
            "blocked_by": blocklist_selectors.blocking_entry(subscriber.email),
            "history": selectors.consent_history(subscriber),
            "sent_messages": selectors.messages_to(subscriber),
            "bounces": selectors.bounces_of(subscriber),
        },
    )


def _subscription_or_404(subscriber_id: int, subscription_id: int) -> Subscription:
    return get_object_or_404(
        Subscription.objects.select_related("subscriber", "mailing_list"),
        pk=subscription_id,
        subscriber_id=subscriber_id,
    )


@require_POST
@staff_required
def subscription_confirm(
    request: HttpRequest, subscriber_id: int, subscription_id: int
) -> HttpResponse:
    """A staff member confirms a double opt-in subscription, vouching for consent."""
    subscription = _subscription_or_404(subscriber_id, subscription_id)
    name = subscription.mailing_list.name
    try:
        changed = services.confirm_by_staff(subscription=subscription, actor=request.user)
    except services.SubscriptionStateError as exc:
        messages.error(request, f"Cannot confirm: {exc}")
    else:
        if changed:
            messages.success(request, f"Subscription to “{name}” confirmed.")
        else:
            messages.info(request, f"The subscription to “{name}” was already confirmed.")
    return redirect("subscribers:detail", subscriber_id)


@require_POST
@staff_required
def subscription_resend_confirmation(
    request: HttpRequest, subscriber_id: int, subscription_id: int
) -> HttpResponse:
    subscription = _subscription_or_404(subscriber_id, subscription_id)
    try:
        services.resend_confirmation(subscription=subscription)
    except services.SubscriptionStateError as exc:
        messages.error(request, f"Cannot resend: {exc}")
    else:
        messages.success(
            request,
            f"Confirmation email for “{subscription.mailing_list.name}” queued "
            f"to {subscription.subscriber.email}.",
        )
    return redirect("subscribers:detail", subscriber_id)


@require_http_methods(["GET", "POST"])
@staff_required
def subscriber_edit(request: HttpRequest, subscriber_id: int) -> HttpResponse:
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    if request.method == "POST":
        form = SubscriberEditForm(request.POST)
    else:
        form = SubscriberEditForm.for_subscriber(subscriber)
    duplicate_id = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_subscriber(
                subscriber=subscriber,
                email=data["email"],
                name=data["name"],
                attributes=data["attributes"],
                status=data["status"],
                lists=data["lists"],
                preconfirm=data["preconfirm"],
                origin=consent.admin(request),
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.DuplicateSubscriber as exc:
            form.add_error("email", f"Another subscriber already has the address {exc.email}.")
            duplicate_id = exc.existing_id
        else:
            messages.success(request, f"Subscriber {subscriber.email} saved.")
            return redirect("subscribers:detail", subscriber.pk)
    return render(
        request,
        "subscribers/subscriber_form.html",
        {"form": form, "subscriber": subscriber, "duplicate_id": duplicate_id},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def subscriber_delete(request: HttpRequest, subscriber_id: int) -> HttpResponse:
    """GET explains what deleting takes with it; the POST (with CSRF) does it."""
    subscriber = get_object_or_404(Subscriber, pk=subscriber_id)
    if request.method == "POST":
        try:
            services.delete_subscriber(subscriber=subscriber)
        except services.SubscriberInUse as exc:
            messages.error(request, f"Cannot delete: {exc}.")
            return redirect("subscribers:detail", subscriber.pk)
        messages.success(request, f"Subscriber {subscriber.email} deleted.")
        return redirect("subscribers:index")
    impact = selectors.subscriber_deletion_impact(subscriber)
    return render(
        request,
        "subscribers/subscriber_confirm_delete.html",
        {"subscriber": subscriber, "impact": impact, "blocked": bool(impact.sending_in)},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def list_edit(request: HttpRequest, list_id: int) -> HttpResponse:
    mailing_list = get_object_or_404(MailingList, pk=list_id)
    if request.method == "POST":
        form = ListForm(request.POST)
    else:
        form = ListForm(
            initial={
                "name": mailing_list.name,
                "optin": mailing_list.optin,
                "description": mailing_list.description,
                "public": mailing_list.public,
                "confirmation_subject": mailing_list.confirmation_subject,
                "confirmation_html": mailing_list.confirmation_html,
            }
        )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_list(mailing_list=mailing_list, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_error(exc)
        except services.DuplicateList:
            form.add_error("name", "Another list already has this name.")
        else:
            messages.success(request, f"List “{mailing_list.name}” saved.")
            return redirect("subscribers:list_detail", mailing_list.pk)
    return render(request, "subscribers/list_form.html", {"form": form, "list": mailing_list})


@require_http_methods(["GET", "POST"])
@staff_required
def list_delete(request: HttpRequest, list_id: int) -> HttpResponse:
    """GET explains what deleting takes with it; the POST (with CSRF) does it."""
    mailing_list = get_object_or_404(MailingList, pk=list_id)
    if request.method == "POST":
        try:
            services.delete_list(mailing_list=mailing_list)
        except services.ListInUse as exc:
            messages.error(request, f"Cannot delete: {exc}.")
            return redirect("subscribers:list_detail", mailing_list.pk)
        messages.success(request, f"List “{mailing_list.name}” deleted.")
        return redirect("subscribers:list_index")
    impact = selectors.list_deletion_impact(mailing_list)
    return render(
        request,
        "subscribers/list_confirm_delete.html",
        {"list": mailing_list, "impact": impact, "blocked": bool(impact.unfinished_campaigns)},
    )
