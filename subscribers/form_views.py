"""Marketer pages for public signup forms: list, create, edit (with the snippet
to paste elsewhere and every version of the consent text), delete."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from postino.forms import ServiceForm
from postino.permissions import staff_required
from subscribers.models import MailingList, SignupForm
from subscribers.signup import services


class SignupFormForm(ServiceForm):
    name = forms.CharField(max_length=200, required=False, help_text="Only your team sees this.")
    slug = forms.CharField(
        label="Address",
        max_length=80,
        required=False,
        help_text="The page is at /s/join/<address>/. Letters, digits, dashes.",
    )
    title = forms.CharField(max_length=200, required=False, help_text="The page's heading.")
    intro = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="With more than one, visitors choose among them.",
    )
    consent_text = forms.CharField(
        label="Consent text",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown above the button. Each change is kept as a new version, and every "
        "subscription records the version its visitor saw.",
    )
    ask_name = forms.BooleanField(label="Ask for a name", required=False, initial=True)
    redirect_url = forms.CharField(
        label="After subscribing, go to",
        max_length=500,
        required=False,
        help_text="Empty: Postino's thank-you page.",
    )
    enabled = forms.BooleanField(label="Accept sign-ups", required=False, initial=True)

    default_error_field = "name"

    def fields_for_service(self) -> services.FormFields:
        data = self.cleaned_data
        return services.FormFields(
            name=data["name"],
            slug=data["slug"].strip(),
            title=data["title"],
            consent_text=data["consent_text"],
            lists=list(data["lists"]),
            intro=data["intro"],
            ask_name=data["ask_name"],
            redirect_url=data["redirect_url"].strip(),
            enabled=data["enabled"],
        )


def snippet_for(form: SignupForm) -> str:
    """HTML to paste into another site: a plain form posting here, and our script."""
    base = settings.BASE_URL.rstrip("/")
    return render_to_string(
        "subscribers/signup_snippet.html",
        {
            "signup": form,
            "action": base + reverse("public:signup", args=[form.slug]),
            "challenge": base + reverse("public:signup_challenge", args=[form.slug]),
            "script": base + settings.STATIC_URL + "js/signup.js",
            "lists": list(form.lists.order_by("name")),
        },
    ).strip()


@require_GET
@staff_required
def form_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "subscribers/signup_index.html",
        {"forms": SignupForm.objects.prefetch_related("lists").order_by("name")},
    )


def _save(request: HttpRequest, signup: SignupForm | None) -> HttpResponse:
    if request.method == "POST":
        form = SignupFormForm(request.POST)
    elif signup is not None:
        form = SignupFormForm(
            initial={
                "name": signup.name,
                "slug": signup.slug,
                "title": signup.title,
                "intro": signup.intro,
                "lists": list(signup.lists.all()),
                "consent_text": signup.consent_text,
                "ask_name": signup.ask_name,
                "redirect_url": signup.redirect_url,
                "enabled": signup.enabled,
            }
        )
    else:
        form = SignupFormForm(
            initial={
                "title": "Subscribe to our newsletter",
                "consent_text": "I agree to receive the newsletter by email. I can unsubscribe at "
                "any time with the link in every email.",
            }
        )
    if request.method == "POST" and form.is_valid():
        try:
            if signup is None:
                signup = services.create_form(form.fields_for_service())
                messages.success(request, f"Form “{signup.name}” created.")
            else:
                signup = services.update_form(signup, form.fields_for_service())
                messages.success(request, f"Form “{signup.name}” saved.")
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            return redirect("signup_forms:edit", signup.pk)
    context: dict[str, object] = {"form": form, "signup": signup}
    if signup is not None:
        context["snippet"] = snippet_for(signup)
        context["versions"] = signup.consent_texts.order_by("-version")
    return render(request, "subscribers/signup_form.html", context)


@require_http_methods(["GET", "POST"])
@staff_required
def form_create(request: HttpRequest) -> HttpResponse:
    return _save(request, None)


@require_http_methods(["GET", "POST"])
@staff_required
def form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    return _save(request, get_object_or_404(SignupForm, pk=form_id))


@require_http_methods(["GET", "POST"])
@staff_required
def form_delete(request: HttpRequest, form_id: int) -> HttpResponse:
    signup = get_object_or_404(SignupForm, pk=form_id)
    if request.method == "POST":
        services.delete_form(signup)
        messages.success(request, f"Form “{signup.name}” deleted.")
        return redirect("signup_forms:index")
    return render(request, "subscribers/signup_confirm_delete.html", {"signup": signup})
