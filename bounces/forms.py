"""Forms for the bounce pages: they parse input; ``bounces.services`` decides."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from bounces.models import BounceEvent, BouncePolicy
from campaigns.forms import percent
from postino.forms import ServiceForm


class BounceFilterForm(forms.Form):
    kind = forms.ChoiceField(required=False, choices=[("", "All kinds"), *BounceEvent.Kind.choices])
    source = forms.ChoiceField(
        required=False, choices=[("", "All sources"), *BounceEvent.Source.choices]
    )
    q = forms.CharField(required=False, max_length=320)
    campaign = forms.IntegerField(required=False, min_value=1)
    before = forms.IntegerField(required=False, min_value=1)

    def value(self, name: str) -> Any:
        """The cleaned value, or empty when the parameter was junk (it is ignored)."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class SuppressionFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=320)
    lifted = forms.BooleanField(required=False)
    before = forms.IntegerField(required=False, min_value=1)

    def value(self, name: str) -> Any:
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        return self.cleaned_data.get(name) or None


class SuppressionForm(ServiceForm):
    # A CharField: the service decides what an address is, and says so.
    email = forms.CharField(
        max_length=320,
        widget=forms.EmailInput(attrs={"placeholder": "someone@example.com"}),
        help_text="Postino will not send to this address until an admin lifts it.",
    )
    note = forms.CharField(
        max_length=400,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Why, e.g. asked by phone to stop"}),
        help_text="Shown in the list next to the address, with your username.",
    )

    default_error_field = "email"


ACTION_HELP = {
    "hard_action": (
        "A hard bounce says the address does not exist or will never accept mail "
        "(5.x.x, e.g. 5.1.1 user unknown). “Suppress” stops all sending to it at once."
    ),
    "soft_action": (
        "A soft bounce is temporary (mailbox full, server busy). “Suppress” stops "
        "sending once an address collects the number of soft bounces below within "
        "the window; fewer, or older ones, do nothing."
    ),
    "complaint_action": (
        "A complaint is a recipient pressing “This is spam” (a feedback report or an "
        "ESP event). “Unsubscribe and suppress” removes the subscriber from every list "
        "and stops all sending to the address."
    ),
}


class PolicyForm(ServiceForm):
    hard_action = forms.ChoiceField(
        label="Hard bounces",
        choices=BouncePolicy.Action.choices,
        widget=forms.RadioSelect,
        help_text=ACTION_HELP["hard_action"],
    )
    soft_action = forms.ChoiceField(
        label="Soft bounces",
        choices=BouncePolicy.Action.choices,
        widget=forms.RadioSelect,
        help_text=ACTION_HELP["soft_action"],
    )
    soft_threshold = forms.IntegerField(
        label="Soft bounces before suppressing",
        help_text="Suppress an address on its Nth soft bounce within the window (N ≥ 1).",
    )
    soft_window_days = forms.IntegerField(
        label="Window (days)",
        help_text="Only soft bounces received in this many days count (1 to 365).",
    )
    complaint_action = forms.ChoiceField(
        label="Complaints",
        choices=BouncePolicy.ComplaintAction.choices,
        widget=forms.RadioSelect,
        help_text=ACTION_HELP["complaint_action"],
    )
    pause_complaint_rate = forms.DecimalField(
        label="Pause above this complaint rate (%)",
        max_digits=7,
        decimal_places=4,
        help_text=(
            "A running campaign is paused, with the reason shown on its page, when "
            "complaints ÷ messages sent goes above this. Mailbox providers start "
            "filtering around 0.3%. 0 pauses on the first complaint; 100 never pauses."
        ),
    )
    pause_hard_bounce_rate = forms.DecimalField(
        label="Pause above this hard-bounce rate (%)",
        max_digits=7,
        decimal_places=4,
        help_text=(
            "A running campaign is paused when hard bounces ÷ messages attempted goes "
            "above this; a high rate means a stale or bought list. 100 never pauses."
        ),
    )
    pause_min_sent = forms.IntegerField(
        label="Judge a campaign after",
        help_text=(
            "Messages a campaign must have sent before either rate can pause it, so "
            "that one early complaint does not stop a large send."
        ),
    )

    @classmethod
    def for_policy(cls, policy: BouncePolicy) -> PolicyForm:
        return cls(
            initial={
                "hard_action": policy.hard_action,
                "soft_action": policy.soft_action,
                "soft_threshold": policy.soft_threshold,
                "soft_window_days": policy.soft_window_days,
                "complaint_action": policy.complaint_action,
                "pause_complaint_rate": percent(policy.pause_complaint_rate),
                "pause_hard_bounce_rate": percent(policy.pause_hard_bounce_rate),
                "pause_min_sent": policy.pause_min_sent,
            }
        )

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments for ``update_policy``: percentages become fractions."""
        data = dict(self.cleaned_data)
        for name in ("pause_complaint_rate", "pause_hard_bounce_rate"):
            data[name] = float(Decimal(data[name]) / 100)
        return data
