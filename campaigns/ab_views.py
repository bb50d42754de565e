"""A campaign's A/B test in the browser: set it up on a draft, follow its
phase and figures on the campaign page, pick the winner by hand."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from campaigns import abtest
from campaigns.models import AbTest, Campaign
from postino.forms import ServiceForm
from postino.permissions import staff_required

VARIANT_SLOTS = abtest.MAX_VARIANTS
VARIANT_KEY = re.compile(r"variants\[(\d+)\]")
LETTERS = "ABCD"


class AbTestForm(ServiceForm):
    field = forms.ChoiceField(
        label="What the variants change",
        choices=[("subject", "Subject"), ("from_name", "From name"), ("html", "Body")],
        widget=forms.RadioSelect,
    )
    test_percent = forms.IntegerField(
        label="Test share (%)",
        min_value=1,
        max_value=abtest.MAX_TEST_PERCENT,
        initial=20,
        help_text="Of the audience, split evenly between the variants; the rest get the winner.",
    )
    wait_minutes = forms.IntegerField(
        label="Wait (minutes)",
        min_value=1,
        max_value=abtest.MAX_WAIT_MINUTES,
        initial=60,
        help_text="After the variants are sent, how long to collect opens and clicks.",
    )
    metric = forms.ChoiceField(label="Winner", choices=AbTest.Metric.choices, initial="opens")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(VARIANT_SLOTS):
            self.fields[f"variant_{index}"] = forms.CharField(
                label=f"Variant {LETTERS[index]}",
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
            )

    def variant_fields(self) -> list[forms.BoundField]:
        return [self[f"variant_{index}"] for index in range(VARIANT_SLOTS)]

    def variants(self) -> list[abtest.VariantIn]:
        field = self.cleaned_data["field"]
        values = [self.cleaned_data.get(f"variant_{i}", "") for i in range(VARIANT_SLOTS)]
        return [abtest.VariantIn(**{field: value}) for value in values if value.strip()]

    def _target(self, key: str | None) -> str | None:
        # "variants[1]" and "variants[1].subject" go beside variant B's field.
        found = VARIANT_KEY.match(key or "")
        return f"variant_{found.group(1)}" if found else super()._target(key)


def _initial(test: AbTest | None) -> dict[str, Any]:
    if test is None:
        return {}
    variants = list(test.variants.all())
    field = next((name for name in abtest.FIELDS if getattr(variants[0], name)), "subject")
    return {
        "field": field,
        "test_percent": test.test_percent,
        "wait_minutes": test.wait_minutes,
        "metric": test.metric,
        **{f"variant_{v.index}": getattr(v, field) for v in variants},
    }


@require_http_methods(["GET", "POST"])
@staff_required
def ab_test_edit(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    test = abtest.test_of(campaign)
    if not campaign.is_editable:
        messages.error(request, "The A/B test of a campaign that has started cannot change.")
        return redirect("campaigns:detail", campaign.pk)
    form = AbTestForm(request.POST or None, initial=_initial(test))
    if request.method == "POST" and "remove" in request.POST:
        abtest.remove(campaign=campaign)
        messages.success(request, "A/B test removed: the campaign goes to everyone as written.")
        return redirect("campaigns:detail", campaign.pk)
    if request.method == "POST" and form.is_valid():
        try:
            abtest.configure(
                campaign=campaign,
                variants=form.variants(),
                test_percent=form.cleaned_data["test_percent"],
                wait_minutes=form.cleaned_data["wait_minutes"],
                metric=form.cleaned_data["metric"],
            )
        except ValidationError as exc:
            form.add_service_error(exc)
        else:
            messages.success(request, "A/B test saved: it starts with the campaign.")
            return redirect("campaigns:detail", campaign.pk)
    return render(
        request,
        "campaigns/ab_test_form.html",
        {"campaign": campaign, "form": form, "test": test},
        status=400 if form.is_bound and form.errors else 200,
    )


@require_POST
@staff_required
def ab_test_winner(request: HttpRequest, campaign_id: int) -> HttpResponse:
    campaign = get_object_or_404(Campaign, pk=campaign_id)
    raw = request.POST.get("variant", "")
    if not raw.isdigit():
        messages.error(request, "Choose a variant.")
        return redirect("campaigns:detail", campaign.pk)
    try:
        test = abtest.choose_winner(campaign=campaign, variant=int(raw))
    except (abtest.AbTestError, ValidationError) as exc:
        text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, f"The winner was not changed: {text}.")
    else:
        messages.success(
            request,
            f"Variant {LETTERS[test.winner or 0]} wins: it goes to the rest of the audience.",
        )
    return redirect("campaigns:detail", campaign.pk)


def ab_test_context(campaign: Campaign) -> dict[str, Any]:
    """What the campaign page's A/B card shows (a few queries; none without a test)."""
    test = abtest.test_of(campaign)
    if test is None:
        return {"ab": None}
    figures = abtest.variant_figures(test)
    return {
        "ab": {
            "test": test,
            "figures": figures,
            "margin": abtest.margin(test, figures),
            "can_choose": test.phase in (AbTest.Phase.TESTING, AbTest.Phase.WAITING),
            "by_clicks": test.metric == AbTest.Metric.CLICKS,
        }
    }
