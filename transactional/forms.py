"""Forms for the Transactional pages: they parse input; the services decide.

The one thing parsed here rather than in a service is the sample data's
JSON text: reading JSON is parsing, and its mistakes carry the line they are
on (``params["line"]``), which the form shows and the live preview answers.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from delivery.models import SmtpServer
from postino.forms import ServiceForm
from transactional.credentials import normalize_domains
from transactional.models import Category, RelayCredential, TxMessage, TxTemplate

STARTER_HTML = """<p>Hello {{ name }},</p>
<p>Your order {{ order_id }} is on its way.</p>
"""
STARTER_SAMPLE = '{\n  "name": "Ada",\n  "order_id": "A-1001"\n}\n'
MEGABYTE = 1024 * 1024


class SampleDataField(forms.CharField):
    """JSON text that must hold an object; cleans to a dict."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("strip", False)
        super().__init__(**kwargs)

    def clean(self, value: Any) -> dict[str, Any]:
        raw = super().clean(value) or ""
        if not raw.strip():
            return {}
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                "Line %(line)s: %(problem)s (column %(column)s).",
                code="json",
                params={"line": exc.lineno, "problem": exc.msg, "column": exc.colno},
            ) from exc
        if not isinstance(data, dict):
            raise ValidationError(
                'Line 1: sample data must be a JSON object, such as {"name": "Ada"}.',
                code="not_object",
                params={"line": 1},
            )
        return data


def code_area(rows: int) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, "class": "code", "spellcheck": "false"})


class TemplateForm(ServiceForm):
    name = forms.CharField(
        max_length=200,
        required=False,
        help_text="For your team; applications send the template's id.",
    )
    description = forms.CharField(max_length=300, required=False)
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(), required=False, empty_label="No category"
    )
    subject = forms.CharField(
        max_length=998, required=False, strip=False, help_text="A Jinja template, like the HTML."
    )
    html = forms.CharField(
        label="HTML",
        required=False,
        strip=False,
        widget=code_area(16),
        help_text="Every key of the send's data is a variable: {{ name }}, {{ order.total }}.",
    )
    text = forms.CharField(
        label="Text",
        required=False,
        strip=False,
        widget=code_area(6),
        help_text="Optional: without it, the text part is made from the HTML.",
    )
    sample_data = SampleDataField(
        label="Sample data (JSON)",
        widget=code_area(8),
        help_text=(
            "A JSON object: what the preview renders with, and saving checks against. "
            "Every variable the template uses must be in it (null is fine)."
        ),
    )
    from_email = forms.CharField(
        label="From",
        max_length=320,
        required=False,
        help_text="For example: Shop <orders@example.com>. Empty: the default From address.",
    )
    reply_to = forms.CharField(label="Reply-To", max_length=320, required=False)
    track_opens = forms.BooleanField(
        required=False,
        help_text="A pixel in the HTML part; its first open by a person is kept per message.",
    )
    track_clicks = forms.BooleanField(
        required=False,
        help_text=(
            "Links go through Postino's redirect. Leave off for links that must reach "
            "the recipient untouched, such as a password reset's."
        ),
    )

    # A missing variable is a problem of the data, shown beside the sample data.
    service_field_aliases = {"data": "sample_data"}
    default_error_field = "name"

    @classmethod
    def initial_for(cls, template: TxTemplate) -> dict[str, Any]:
        return {
            "name": template.name,
            "description": template.description,
            "category": template.category_id,
            "subject": template.subject,
            "html": template.html,
            "text": template.text,
            "sample_data": json.dumps(template.sample_data, indent=2, ensure_ascii=False),
            "from_email": template.from_email,
            "reply_to": template.reply_to,
            "track_opens": template.track_opens,
            "track_clicks": template.track_clicks,
        }


class PreviewForm(forms.Form):
    """The template form's fields as typed so far (names as in TemplateForm)."""

    subject = forms.CharField(max_length=998, required=False, strip=False)
    html = forms.CharField(required=False, strip=False)
    text = forms.CharField(required=False, strip=False)
    sample_data = SampleDataField()

    def problems(self) -> list[dict[str, Any]]:
        """The form's errors as the preview answers them: field, line, message."""
        return [
            {"field": name, "line": (error.params or {}).get("line"), "message": message}
            for name, errors in self.errors.as_data().items()
            for error in errors
            for message in error.messages
        ]


class CategoryForm(ServiceForm):
    name = forms.CharField(
        max_length=64,
        help_text="A short slug applications send, e.g. password-reset or receipts.",
    )
    description = forms.CharField(max_length=300, required=False)
    marketing = forms.BooleanField(
        required=False, help_text=Category._meta.get_field("marketing").help_text
    )
    exempt_from_unsubscribes = forms.BooleanField(
        label="Exempt from unsubscribes",
        required=False,
        help_text=Category._meta.get_field("exempt_from_unsubscribes").help_text,
    )

    default_error_field = "name"


class CredentialLimitsForm(ServiceForm):
    allowed_from_domains = forms.CharField(
        label="Allowed From domains",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text="One a line; subdomains are allowed too. Empty: any From domain.",
    )
    messages_per_minute = forms.IntegerField(
        label="Messages per minute", required=False, min_value=1, help_text="Empty: no limit."
    )
    messages_per_day = forms.IntegerField(
        label="Messages per day", required=False, min_value=1, help_text="Empty: no limit."
    )
    max_message_mb = forms.DecimalField(
        label="Largest message (MB)",
        min_value=0.01,
        max_digits=6,
        decimal_places=2,
        initial=10,
    )
    channel = forms.ModelChoiceField(
        label="Sending channel",
        queryset=SmtpServer.objects.all(),
        required=False,
        empty_label="The transactional default",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        empty_label="No category",
        help_text="The category of what this application sends.",
    )

    service_field_aliases = {"max_message_bytes": "max_message_mb"}
    default_error_field = "allowed_from_domains"

    def clean_allowed_from_domains(self) -> list[str]:
        # Checked here as well as by the service so that a bad domain is shown
        # beside this field (the service's error names no field).
        return normalize_domains(self.cleaned_data["allowed_from_domains"].splitlines())

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "allowed_from_domains": data["allowed_from_domains"],
            "messages_per_minute": data["messages_per_minute"],
            "messages_per_day": data["messages_per_day"],
            "max_message_bytes": int(data["max_message_mb"] * MEGABYTE),
            "channel": data["channel"],
            "category": data["category"],
        }

    @classmethod
    def initial_for(cls, credential: RelayCredential) -> dict[str, Any]:
        return {
            "allowed_from_domains": "\n".join(credential.allowed_from_domains or []),
            "messages_per_minute": credential.messages_per_minute,
            "messages_per_day": credential.messages_per_day,
            "max_message_mb": round(credential.max_message_bytes / MEGABYTE, 2),
            "channel": credential.channel_id,
            "category": credential.category_id,
        }


class CredentialForm(CredentialLimitsForm):
    name = forms.CharField(
        max_length=200, help_text="The application that logs in with it, e.g. Shop backend."
    )

    field_order = ["name"]
    default_error_field = "name"


class MessageFilterForm(forms.Form):
    MATCH_CHOICES = [("prefix", "starts with"), ("exact", "is exactly")]

    q = forms.CharField(required=False, max_length=320)
    match = forms.ChoiceField(required=False, choices=MATCH_CHOICES)
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *TxMessage.Status.choices]
    )
    template = forms.ModelChoiceField(
        queryset=TxTemplate.objects.only("id", "name"),
        required=False,
        empty_label="All templates",
    )
    category = forms.ModelChoiceField(
        queryset=Category.objects.only("id", "name"),
        required=False,
        empty_label="All categories",
    )
    source = forms.ChoiceField(
        required=False, choices=[("", "All sources"), *TxMessage.Source.choices]
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    after = forms.CharField(required=False, max_length=64)

    FILTERS = ("q", "match", "status", "template", "category", "source", "since", "until")

    def filters(self) -> dict[str, Any]:
        """The valid filters as ``selectors.message_log`` takes them; junk is ignored."""
        self.is_valid()
        data = {name: self.cleaned_data.get(name) for name in self.FILTERS}
        return {
            "recipient": data["q"] or "",
            "exact": data["match"] == "exact",
            "status": data["status"] or "",
            "template": data["template"],
            "category": data["category"],
            "source": data["source"] or "",
            "since": data["since"],
            "until": data["until"],
        }

    def kept(self) -> dict[str, str]:
        """The filters given, as query parameters for the pager."""
        return {
            name: self.data[name]
            for name in self.FILTERS
            if name in self.cleaned_data and self.data.get(name)
        }
