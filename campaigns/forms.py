from __future__ import annotations

from django import forms
from django.conf import settings

from campaigns.models import Template
from delivery.models import SmtpServer
from postino.forms import ServiceForm
from subscribers.models import MailingList

STARTER_HTML = """<h1>Hello {{ subscriber.name or "there" }},</h1>
<p>Write your message here.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> ·
   <a href="{{ preferences_url }}">Preferences</a></p>
"""


class CampaignForm(ServiceForm):
    name = forms.CharField(max_length=200, help_text="Only your team sees this.")
    subject = forms.CharField(max_length=998, help_text="A Jinja template, like the body.")
    from_email = forms.CharField(
        label="From", max_length=320, help_text="For example: News <news@example.com>"
    )
    reply_to = forms.CharField(label="Reply-To", max_length=320, required=False)
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    smtp_server = forms.ModelChoiceField(
        label="SMTP server",
        queryset=SmtpServer.objects.all(),
        required=False,
        empty_label="— choose a server —",
    )
    template = forms.ModelChoiceField(
        label="Layout",
        queryset=Template.objects.all(),
        required=False,
        empty_label="No layout",
        help_text="An optional layout; the body fills its {% block content %}.",
    )
    html = forms.CharField(
        label="HTML body",
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "false"}),
        help_text=(
            "Jinja template. Variables: subscriber.email, subscriber.name, "
            "subscriber.attributes, campaign.name, unsubscribe_url, preferences_url, webview_url."
        ),
    )
    text = forms.CharField(
        label="Text body",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8, "class": "code", "spellcheck": "false"}),
        help_text="Optional; generated from the HTML when empty.",
    )

    service_field_aliases = {"layout": "template"}
    default_error_field = None

    @classmethod
    def blank(cls) -> CampaignForm:
        return cls(initial={"from_email": settings.DEFAULT_FROM_EMAIL, "html": STARTER_HTML})


class StartForm(forms.Form):
    scheduled_at = forms.DateTimeField(
        label="Schedule (optional)",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="Leave empty to start now.",
    )


class TestSendForm(ServiceForm):
    emails = forms.CharField(
        label="Send a test to",
        max_length=2000,
        widget=forms.TextInput(attrs={"placeholder": "you@example.com, colleague@example.com"}),
        help_text="Comma-separated addresses.",
    )

    default_error_field = "emails"


class PreviewForm(forms.Form):
    email = forms.CharField(label="Subscriber email", required=False, max_length=320)
    subscriber = forms.TypedChoiceField(
        label="or a list member", required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: object, members: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        field = self.fields["subscriber"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "— sample subscriber —"), *members]
