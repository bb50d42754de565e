"""The public web archive's pages: no login, the same for everyone, cacheable.

Three addresses: the list (newest first), a campaign's page (its subject, date
and the web version in a sandboxed iframe) and the web version itself, served
with a Content-Security-Policy that forbids scripts. A campaign that is not
opted in, or has not started sending, is a 404 like one that does not exist,
and so is everything when ``PUBLIC_ARCHIVE`` is off.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from campaigns import web_archive
from campaigns.models import Campaign
from campaigns.rendering import TemplateValidationError
from subscribers.public_views import with_title

# Every reader sees the same page, so shared caches may keep it; five minutes
# bounds how long a campaign taken out of the archive stays visible.
CACHE_SECONDS = 300
PAGE_SIZE = 20
# The list and a campaign's page: our inline styles, the framed web version
# (same origin), no scripts, no forms.
PAGE_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# The web version: marketers' HTML may load remote images, styles and fonts,
# never scripts; ``sandbox`` also blocks forms and plugins. Framed only by us.
MESSAGE_CSP = (
    "default-src 'none'; img-src * data:; style-src * 'unsafe-inline'; font-src * data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'; "
    "sandbox allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation"
)


def _public(response: HttpResponse, *, csp: str) -> HttpResponse:
    patch_cache_control(response, public=True, max_age=CACHE_SECONDS)
    response["Content-Security-Policy"] = csp
    # Links in the web version leave for the marketer's sites: say nothing of us.
    response["Referrer-Policy"] = "no-referrer"
    return response


def _campaign_or_404(campaign_id: int) -> Campaign:
    campaign = web_archive.public_campaign(campaign_id)
    if campaign is None:
        raise Http404("No such campaign in the archive.")
    return campaign


@require_http_methods(["GET", "HEAD"])
def archive_index(request: HttpRequest) -> HttpResponse:
    if not web_archive.archive_enabled():
        raise Http404("The archive is turned off.")
    page = web_archive.archive_page(after=request.GET.get("after", ""), size=PAGE_SIZE)
    response = render(
        request,
        "public/archive_index.html",
        {
            "entries": [web_archive.entry(campaign) for campaign in page.items],
            "next_cursor": page.next_cursor,
            "first_page": not request.GET.get("after"),
        },
    )
    return _public(response, csp=PAGE_CSP)


@require_http_methods(["GET", "HEAD"])
def archive_campaign(request: HttpRequest, campaign_id: int) -> HttpResponse:
    entry = web_archive.entry(_campaign_or_404(campaign_id))
    response = render(request, "public/archive_campaign.html", {"entry": entry})
    return _public(response, csp=PAGE_CSP)


@xframe_options_sameorigin
@require_http_methods(["GET", "HEAD"])
def archive_message(request: HttpRequest, campaign_id: int) -> HttpResponse:
    """The web version alone, framed by the campaign's page (or opened on its own)."""
    campaign = _campaign_or_404(campaign_id)
    try:
        message = web_archive.web_version(campaign, page_url=web_archive.page_url(campaign))
    except TemplateValidationError:
        return render(request, "public/webview_error.html", status=500)
    response = HttpResponse(
        with_title(message.html, message.subject), content_type="text/html; charset=utf-8"
    )
    return _public(response, csp=MESSAGE_CSP)
