"""Pages a subscriber reaches from the links in an email. No login: the signed
token in the URL is the credential (see ``subscribers.tokens``).

Every page answers a friendly 404 for a token that is tampered with, truncated
or minted for another purpose, and changes nothing. GET never changes state:
mail scanners and link previewers fetch every URL in a message.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.html import escape
from django.views.csrf import csrf_failure as django_csrf_failure
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.models import Campaign
from campaigns.personalize import build_context
from campaigns.rendering import TemplateValidationError, compiled_for
from subscribers import consent, privacy, services
from subscribers.models import (
    REASON_TEXT_MAX_LENGTH,
    ConsentEvent,
    MailingList,
    Subscriber,
    Subscription,
)
from subscribers.tokens import (
    InvalidToken,
    Purpose,
    SubscriberLink,
    make_token,
    read_confirm_token,
    read_token,
)

View = Callable[..., HttpResponse]

# Pages with forms: our own inline styles, forms post back to us, no scripts.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# A campaign's HTML is written by marketers and may embed remote images and
# styles, but never scripts; ``sandbox`` also blocks forms and plugins.
WEBVIEW_CSP = (
    "default-src 'none'; img-src * data:; style-src * 'unsafe-inline'; font-src * data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
)


_TITLE = re.compile(r"<title[\s>]", re.IGNORECASE)
_HEAD_OPEN = re.compile(r"<head(?:\s[^>]*)?>", re.IGNORECASE)
_HTML_OPEN = re.compile(r"<html(?:\s[^>]*)?>", re.IGNORECASE)


def with_title(html: str, subject: str) -> str:
    """The campaign's HTML as a page whose ``<title>`` is the rendered subject.

    A layout that sets its own title keeps it; a layout with a ``<head>`` gets
    one; a bare fragment is wrapped in a minimal document.
    """
    if _TITLE.search(html):
        return html
    title = f"<title>{escape(subject)}</title>"
    if head := _HEAD_OPEN.search(html):
        return f"{html[: head.end()]}{title}{html[head.end() :]}"
    if root := _HTML_OPEN.search(html):
        return f"{html[: root.end()]}<head>{title}</head>{html[root.end() :]}"
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{title}</head><body>\n{html}\n</body></html>\n"
    )


def public_page(view: View) -> View:
    """Headers every public page carries: not indexed, not cached, no token in Referer."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        # The token in our URL is a credential: never send it to other sites.
        # Not "no-referrer": browsers would then send "Origin: null" with our
        # own forms, and Django's CSRF check would reject them.
        response.setdefault("Referrer-Policy", "same-origin")
        response.setdefault("Content-Security-Policy", PAGE_CSP)
        return response

    return never_cache(wrapper)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "public/invalid_link.html", status=404)


def _resolve(purpose: Purpose, token: str) -> tuple[SubscriberLink, Subscriber] | None:
    try:
        link = read_token(purpose, token)
    except InvalidToken:
        return None
    subscriber = Subscriber.objects.filter(pk=link.subscriber_id).first()
    if subscriber is None:  # deleted since the email went out
        return None
    return link, subscriber


def _target_list_ids(link: SubscriberLink) -> list[int] | None:
    """The lists an unsubscribe link concerns: its campaign's, or None for all.

    A link whose campaign has since been deleted falls back to all lists: the
    reader asked to stop receiving mail, and we can no longer tell which.
    """
    if link.campaign_id is None:
        return None
    ids = list(
        Campaign.lists.through.objects.filter(campaign_id=link.campaign_id).values_list(
            "mailinglist_id", flat=True
        )
    )
    return ids or None


def _active_lists(subscriber: Subscriber, list_ids: list[int] | None) -> list[MailingList]:
    # One filter() call: both conditions apply to the same subscription row.
    qs = MailingList.objects.filter(
        subscriptions__subscriber=subscriber,
        subscriptions__status__in=[
            Subscription.Status.CONFIRMED,
            Subscription.Status.UNCONFIRMED,
        ],
    )
    if list_ids is not None:
        qs = qs.filter(pk__in=list_ids)
    return list(qs.order_by("name").distinct())


def _preferences_url(link: SubscriberLink) -> str:
    token = make_token(
        Purpose.PREFERENCES, subscriber_id=link.subscriber_id, campaign_id=link.campaign_id
    )
    return reverse("public:preferences", args=[token])


def _confirm_page(
    request: HttpRequest,
    token: str,
    link: SubscriberLink,
    subscriber: Subscriber,
    form: UnsubscribeForm | None = None,
) -> HttpResponse:
    list_ids = _target_list_ids(link)
    return render(
        request,
        "public/unsubscribe_confirm.html",
        {
            "subscriber": subscriber,
            "lists": _active_lists(subscriber, list_ids),
            "everything": list_ids is None,
            "action": reverse("public:unsubscribe", args=[token]),
            "preferences_url": _preferences_url(link),
            "form": form or UnsubscribeForm(),
        },
        status=400 if form is not None and form.errors else 200,
    )


def _link(request: HttpRequest, link: SubscriberLink | None = None) -> consent.Origin:
    """A subscriber acting through a signed link in one of our emails (of a
    campaign, when the link names one)."""
    origin = consent.from_request(request, ConsentEvent.Via.LINK)
    return origin.through_campaign(link.campaign_id) if link is not None else origin


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for confirmation; POST (a CSRF-protected form) unsubscribes.

    The confirmation form asks why, optionally, so the reason is written with
    the unsubscribe itself: one step, and no ledger row is ever amended. A
    reason the form refuses (an unknown code, too long a text) unsubscribes
    nobody: the page comes back, 400, with the message and the button.
    """
    resolved = _resolve(Purpose.UNSUBSCRIBE, token)
    if resolved is None:
        return _invalid_link(request)
    link, subscriber = resolved
    if request.method != "POST":
        return _confirm_page(request, token, link, subscriber)
    form = UnsubscribeForm(request.POST)
    if not form.is_valid():
        return _confirm_page(request, token, link, subscriber, form)
    list_ids = _target_list_ids(link)
    lists = _active_lists(subscriber, list_ids)
    services.unsubscribe(
        subscriber_id=subscriber.pk,
        list_ids=list_ids,
        origin=_link(request, link),
        given=form.given(),
    )
    return _unsubscribed_page(request, link, subscriber, lists, everything=list_ids is None)


def _unsubscribed_page(
    request: HttpRequest,
    link: SubscriberLink,
    subscriber: Subscriber,
    lists: list[MailingList],
    *,
    everything: bool,
) -> HttpResponse:
    return render(
        request,
        "public/unsubscribe_done.html",
        {
            "subscriber": subscriber,
            "lists": lists,
            "everything": everything,
            "preferences_url": _preferences_url(link),
        },
    )


@csrf_exempt
@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def one_click(request: HttpRequest, token: str) -> HttpResponse:
    """RFC 8058 one-click unsubscribe, the target of ``List-Unsubscribe``.

    POST with the form field ``List-Unsubscribe=One-Click`` unsubscribes and
    answers 200 with a short text body: mail providers post it server-side,
    without cookies or a CSRF token, and do not follow redirects. A POST
    without that field is 400.

    GET does not unsubscribe (scanners prefetch links); it renders the same
    confirmation page as the ``unsubscribe`` link, so a reader whose mail
    client opens the header's URL in a browser still gets a working button.
    """
    resolved = _resolve(Purpose.UNSUBSCRIBE, token)
    if resolved is None:
        return _invalid_link(request)
    link, subscriber = resolved
    if request.method != "POST":
        return _confirm_page(request, token, link, subscriber)
    if request.POST.get("List-Unsubscribe") != "One-Click":
        return HttpResponse(
            "Expected the form field List-Unsubscribe=One-Click.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    list_ids = _target_list_ids(link)
    lists = _active_lists(subscriber, list_ids)
    services.unsubscribe(
        subscriber_id=subscriber.pk,
        list_ids=list_ids,
        origin=_link(request, link).noting("One-click (RFC 8058)"),
    )
    if "text/html" in request.headers.get("Accept", ""):
        # A person's browser (the cookie-free button of the CSRF failure page):
        # the same page as the ordinary form. Providers just need the 200.
        return _unsubscribed_page(request, link, subscriber, lists, everything=list_ids is None)
    return HttpResponse("You have been unsubscribed.\n", content_type="text/plain; charset=utf-8")


class UnsubscribeForm(forms.Form):
    """Why they leave: both fields optional, on every page that unsubscribes a
    person (never the one-click endpoint, which mail providers post to)."""

    reason = forms.ChoiceField(
        choices=[("", "— no reason given —"), *ConsentEvent.Reason.choices],
        required=False,
        label="Why (optional)",
        error_messages={"invalid_choice": "Choose one of the reasons listed, or none."},
    )
    reason_text = forms.CharField(
        max_length=REASON_TEXT_MAX_LENGTH, required=False, label="Anything to add?"
    )

    def given(self) -> consent.GivenReason:
        return consent.GivenReason(
            code=self.cleaned_data.get("reason", ""), text=self.cleaned_data.get("reason_text", "")
        )


class PreferencesForm(UnsubscribeForm):
    name = forms.CharField(max_length=200, required=False, label="Your name")
    lists = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple, label="Your lists"
    )

    def __init__(self, *args: Any, lists: list[MailingList], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The lists they are on and the public ones: the page joins no others.
        field = self.fields["lists"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(m.pk, m.name) for m in lists]


def _offered_lists(subscriber: Subscriber, active: list[MailingList]) -> list[MailingList]:
    public = MailingList.objects.filter(public=True).exclude(pk__in=[m.pk for m in active])
    return sorted([*active, *public], key=lambda m: m.name.lower())


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: HttpRequest, token: str) -> HttpResponse:
    """Change one's name, leave lists or join public ones; unsubscribe from
    everything (with a reason, if they like); download one's data; erase."""
    resolved = _resolve(Purpose.PREFERENCES, token)
    if resolved is None:
        return _invalid_link(request)
    link, subscriber = resolved
    active = _active_lists(subscriber, None)
    offered = _offered_lists(subscriber, active)
    form = PreferencesForm(request.POST or None, lists=offered)
    if request.method == "POST" and form.is_valid():
        if "unsubscribe_all" in request.POST:
            services.unsubscribe(
                subscriber_id=subscriber.pk,
                list_ids=None,
                origin=_link(request, link),
                given=form.given(),
            )
            return redirect(request.path + "?done=unsubscribed")
        services.set_preferences(
            subscriber=subscriber,
            name=form.cleaned_data["name"],
            keep_list_ids=form.cleaned_data["lists"],
            origin=_link(request),
        )
        return redirect(request.path + "?done=saved")
    if not form.is_bound:
        form = PreferencesForm(
            initial={"name": subscriber.name, "lists": [m.pk for m in active]}, lists=offered
        )
    return render(
        request,
        "public/preferences.html",
        {
            "subscriber": subscriber,
            "form": form,
            "done": request.GET.get("done"),
            "data_url": reverse("public:my_data", args=[token]),
            "erase_url": reverse("public:erase", args=[token]),
        },
        status=400 if form.is_bound else 200,
    )


@public_page
@require_http_methods(["GET", "HEAD"])
def my_data(request: HttpRequest, token: str) -> HttpResponse:
    """Everything Postino holds about the link's subscriber, as a JSON file."""
    resolved = _resolve(Purpose.PREFERENCES, token)
    if resolved is None:
        return _invalid_link(request)
    _, subscriber = resolved
    response = JsonResponse(privacy.export_data(subscriber), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = 'attachment; filename="my-data.json"'
    return response


class EraseForm(forms.Form):
    sure = forms.BooleanField(
        label="I understand: my address, name, lists and history are deleted for good, and "
        "I will never be emailed again from here."
    )


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def erase(request: HttpRequest, token: str) -> HttpResponse:
    resolved = _resolve(Purpose.PREFERENCES, token)
    if resolved is None:
        return _invalid_link(request)
    _, subscriber = resolved
    form = EraseForm(request.POST or None)
    deferred = False
    if request.method == "POST" and form.is_valid():
        try:
            privacy.erase(subscriber=subscriber, origin=_link(request))
        except privacy.ErasureDeferred:
            deferred = True
        else:
            return render(request, "public/erased.html")
    return render(
        request,
        "public/erase_confirm.html",
        {
            "subscriber": subscriber,
            "form": form,
            "deferred": deferred,
            "preferences_url": reverse("public:preferences", args=[token]),
        },
        status=409 if deferred else (400 if form.is_bound else 200),
    )


@public_page
@require_http_methods(["GET", "HEAD"])
def webview(request: HttpRequest, token: str) -> HttpResponse:
    """The campaign as this subscriber received it, for mail clients that mangle HTML."""
    resolved = _resolve(Purpose.WEBVIEW, token)
    if resolved is None:
        return _invalid_link(request)
    link, subscriber = resolved
    campaign = (
        Campaign.objects.select_related("template").filter(pk=link.campaign_id).first()
        if link.campaign_id is not None
        else None
    )
    if campaign is None:
        return _invalid_link(request)
    try:
        message = compiled_for(campaign).render(build_context(campaign, subscriber))
    except TemplateValidationError:
        return render(request, "public/webview_error.html", status=500)
    response = HttpResponse(
        with_title(message.html, message.subject), content_type="text/html; charset=utf-8"
    )
    response["Content-Security-Policy"] = WEBVIEW_CSP
    response["Referrer-Policy"] = "no-referrer"  # no forms here; links leave the site
    return response


def _client_ip(request: HttpRequest) -> str | None:
    return consent.client_ip(request)


@public_page
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """Double opt-in: GET shows what is being confirmed and a button; POST confirms.

    Confirming twice shows the same done page. A link for a subscription the
    person has left asks "subscribe again?" and acts only on that button.
    """
    try:
        subscription_id = read_confirm_token(token)
    except InvalidToken:
        return _invalid_link(request)
    subscription = (
        Subscription.objects.select_related("subscriber", "mailing_list")
        .filter(pk=subscription_id)
        .first()
    )
    if subscription is None:  # deleted since the email went out
        return _invalid_link(request)
    preferences_url = reverse(
        "public:preferences",
        args=[make_token(Purpose.PREFERENCES, subscriber_id=subscription.subscriber_id)],
    )
    context = {
        "subscription": subscription,
        "subscriber": subscription.subscriber,
        "list": subscription.mailing_list,
        "preferences_url": preferences_url,
    }
    status = 200
    if request.method == "POST":
        resubscribe = "resubscribe" in request.POST
        services.confirm_subscription(
            subscription=subscription,
            via=Subscription.ConfirmedVia.LINK,
            ip=_client_ip(request),
            resubscribe=resubscribe,
            origin=_link(request),
        )
        if subscription.status == Subscription.Status.CONFIRMED:
            return render(request, "public/confirm_done.html", context)
        # Unsubscribed after this page was opened: ask again, change nothing.
        status = 409
    return render(request, "public/confirm.html", context, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: on a subscriber's page, a way through instead of a bare 403.

    A form posted without a valid CSRF cookie (page left open for days,
    cookies cleared or blocked) gets a page with the same form again, with a
    fresh token; unsubscribing also gets a button that needs no cookie at
    all (the one-click endpoint), so leaving a list never depends on cookies.
    Staff pages keep Django's own failure page.
    """
    try:
        match = resolve(request.path_info)
    except Resolver404:
        match = None
    if match is None or match.namespace != "public":
        return django_csrf_failure(request, reason)
    return _public_csrf_failure(request, match.url_name or "", str(match.kwargs.get("token", "")))


@public_page
def _public_csrf_failure(request: HttpRequest, url_name: str, token: str) -> HttpResponse:
    purposes = {
        "unsubscribe": Purpose.UNSUBSCRIBE,
        "preferences": Purpose.PREFERENCES,
    }
    one_click_url = ""
    if url_name in purposes:
        resolved = _resolve(purposes[url_name], token)
        if resolved is None:
            return _invalid_link(request)
        link, _ = resolved
        if url_name == "preferences":
            # The cookie-free way out from the preferences page leaves everything.
            token = make_token(Purpose.UNSUBSCRIBE, subscriber_id=link.subscriber_id)
        one_click_url = reverse("public:one_click", args=[token])
    elif url_name == "confirm":
        try:
            read_confirm_token(token)
        except InvalidToken:
            return _invalid_link(request)
    fields = [
        (key, value)
        for key in request.POST
        if key != "csrfmiddlewaretoken"
        for value in request.POST.getlist(key)
    ]
    return render(
        request,
        "public/csrf_failed.html",
        {
            "action": request.path,
            "fields": fields,
            "one_click_url": one_click_url,
            "everything": url_name == "preferences",
            "cookie_sent": settings.CSRF_COOKIE_NAME in request.COOKIES,
        },
        status=403,
    )
