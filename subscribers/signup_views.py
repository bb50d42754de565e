"""Public subscription forms: the hosted page, its challenge, and submissions
from it or from the snippet on another site."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from subscribers import consent
from subscribers.models import SignupForm
from subscribers.signup import challenge, services, throttle

HONEYPOT = "website"


def _csp(form: SignupForm) -> str:
    # The challenge script and its fetch are ours; after the POST the browser
    # may be sent on to the form's thank-you page, which form-action must allow.
    targets = "'self'"
    if form.redirect_url:
        parts = urlsplit(form.redirect_url)
        targets += f" {parts.scheme}://{parts.netloc}"
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        f"script-src 'self'; connect-src 'self'; form-action {targets}; base-uri 'none'; "
        "frame-ancestors 'none'"
    )


class VisitorForm(forms.Form):
    email = forms.CharField(max_length=320, required=False, label="Email address")
    name = forms.CharField(max_length=200, required=False, label="Your name")
    lists = forms.TypedMultipleChoiceField(
        coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, signup: SignupForm, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["lists"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = [(m.pk, m.name) for m in signup.lists.order_by("name")]

    def add_service_error(self, exc: ValidationError) -> None:
        for key, messages in exc.message_dict.items():
            self.add_error(key if key in self.fields else None, messages)


def _form_or_404(slug: str) -> SignupForm:
    form = SignupForm.objects.filter(slug=slug, enabled=True).first()
    if form is None:
        raise Http404("No such form")
    return form


def _page(
    request: HttpRequest, signup: SignupForm, visitor: VisitorForm, status: int = 200
) -> HttpResponse:
    response = render(
        request,
        "public/signup.html",
        {"signup": signup, "form": visitor, "offered": signup.lists.count() > 1},
        status=status,
    )
    response["Content-Security-Policy"] = _csp(signup)
    response["X-Robots-Tag"] = "noindex"
    return response


# No CSRF token: the snippet posts here from other sites, which cannot have
# one. The proof of work, the honeypot and the per-IP limit stand in for it,
# and a double opt-in list still waits for the emailed link (decisions.md).
@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    form = _form_or_404(slug)
    if request.method != "POST":
        return _page(request, form, VisitorForm(signup=form))
    visitor = VisitorForm(request.POST, signup=form)
    if not throttle.allow(consent.client_ip(request)):
        visitor.add_error(
            None, "Too many sign-ups from your network just now; try again in a few minutes."
        )
        return _page(request, form, visitor, status=429)
    if request.POST.get(HONEYPOT):
        # A field people cannot see was filled in: answer as if it worked.
        return _done(request, form, services.Submission(lists=list(form.lists.all())))
    try:
        challenge.verify(request.POST.get("altcha", ""))
    except challenge.ChallengeFailed as exc:
        visitor.add_error(None, f"Please try again: {exc}.")
        return _page(request, form, visitor, status=400)
    if not visitor.is_valid():
        return _page(request, form, visitor, status=400)
    data = visitor.cleaned_data
    try:
        result = services.submit(
            form=form,
            email=data["email"],
            name=data["name"] if form.ask_name else "",
            list_ids=data["lists"],
            origin=services.origin_for(request, form),
        )
    except ValidationError as exc:
        visitor.add_service_error(exc)
        return _page(request, form, visitor, status=400)
    return _done(request, form, result)


def _done(request: HttpRequest, form: SignupForm, result: services.Submission) -> HttpResponse:
    if form.redirect_url:
        return redirect(form.redirect_url)
    response = render(request, "public/signup_done.html", {"signup": form, "result": result})
    response["Content-Security-Policy"] = _csp(form)
    return response


@never_cache
@require_GET
def signup_challenge(request: HttpRequest, slug: str) -> JsonResponse:
    """A fresh proof-of-work challenge; any site may fetch it (the snippet)."""
    _form_or_404(slug)
    response = JsonResponse(challenge.new_challenge())
    response["Access-Control-Allow-Origin"] = "*"
    return response
