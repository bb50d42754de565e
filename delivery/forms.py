from __future__ import annotations

from django import forms

from delivery.esp_catalog import ESPS
from delivery.models import DomainLimit, SmtpServer
from postino.forms import ServiceForm


class ServerLimitsForm(ServiceForm):
    """The limits and warm-up every sending server has, SMTP or ESP alike.

    Subclasses add how to reach the server; ``limits_kwargs`` gives these
    fields as the services take them.
    """

    max_connections = forms.IntegerField(
        initial=4,
        label="Max connections",
        help_text="Open connections to this server across all workers together.",
    )
    messages_per_second = forms.FloatField(initial=50.0, label="Messages per second")
    # Limits and warm-up: parsed here, checked by delivery.services.
    messages_per_hour = forms.IntegerField(
        required=False,
        label="Messages per hour",
        help_text="Per clock hour (UTC). Empty: no hourly limit.",
    )
    messages_per_day = forms.IntegerField(
        required=False,
        label="Messages per day",
        help_text="Per calendar day (UTC). Empty: no daily limit.",
    )
    warmup_start_per_day = forms.IntegerField(
        required=False,
        label="Start at (messages per day)",
        help_text="The daily limit on the first day of the warm-up. Empty: no warm-up.",
    )
    warmup_growth_factor = forms.FloatField(
        initial=1.5,
        required=False,
        label="Daily growth factor",
        help_text="Each day allows this many times the day before, from 1.0 (flat) to 10.",
    )
    warmup_started_on = forms.DateField(
        required=False,
        label="First day",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="Day one of the ramp (UTC). Empty: today.",
    )

    LIMIT_FIELDS = (
        "max_connections",
        "messages_per_second",
        "messages_per_hour",
        "messages_per_day",
        "warmup_start_per_day",
        "warmup_growth_factor",
        "warmup_started_on",
    )

    default_error_field = "name"

    def limits_kwargs(self) -> dict[str, object]:
        data = {name: self.cleaned_data[name] for name in self.LIMIT_FIELDS}
        if data["warmup_growth_factor"] is None:
            # Left empty: the service's default (new server) or the stored factor.
            del data["warmup_growth_factor"]
        return data

    @classmethod
    def limits_initial(cls, server: SmtpServer) -> dict[str, object]:
        return {name: getattr(server, name) for name in cls.LIMIT_FIELDS}


class SmtpServerForm(ServerLimitsForm):
    name = forms.CharField(max_length=200)
    host = forms.CharField(max_length=253)
    port = forms.IntegerField(initial=587)
    security = forms.ChoiceField(choices=SmtpServer.Security.choices, initial="starttls")
    username = forms.CharField(
        max_length=320, required=False, help_text="Leave empty if the server needs no login."
    )
    # render_value=False: a stored password is never sent back to the browser.
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(required=False, label="Clear the stored password")

    field_order = ["name", "host", "port", "security", "username", "password", "clear_password"]

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.editing = editing
        if editing:
            self.fields["password"].help_text = "Leave empty to keep the stored password."
        else:
            del self.fields["clear_password"]

    def service_kwargs(self) -> dict[str, object]:
        """Arguments for create/update_smtp_server; None keeps the stored password."""
        data = {
            name: self.cleaned_data[name]
            for name in ("name", "host", "port", "security", "username", "password")
        }
        if self.editing:
            if self.cleaned_data.get("clear_password"):
                data["password"] = ""
            elif not data["password"]:
                data["password"] = None
        return {**data, **self.limits_kwargs()}

    @classmethod
    def for_server(cls, server: SmtpServer) -> SmtpServerForm:
        return cls(
            editing=True,
            initial={
                "name": server.name,
                "host": server.host,
                "port": server.port,
                "security": server.security,
                "username": server.username,
                **cls.limits_initial(server),
            },
        )


def parse_credentials(text: str) -> dict[str, str]:
    """``key = value`` lines into a dict; blank lines and ``#`` comments are skipped.

    Raises ValidationError naming the line that is not ``key = value``. Only
    the text's shape is checked here; which keys an ESP needs is the service's.
    """
    credentials: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, equals, value = line.partition("=")
        key = key.strip().lower()
        if not equals or not key:
            raise forms.ValidationError(
                f"Line {number}: write each setting as key = value, e.g. api_key = abc123."
            )
        if key in credentials:
            raise forms.ValidationError(f"Line {number}: {key} is given twice.")
        credentials[key] = value.strip()
    return credentials


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value, like ``PasswordInput(render_value=False)``:
    secrets typed in are not sent back, not even after a validation error."""

    def format_value(self, value: object) -> None:
        return None


# By label, as people look for them.
ESP_CHOICES = sorted(((key, spec.label) for key, spec in ESPS.items()), key=lambda c: c[1])


class EspServerForm(ServerLimitsForm):
    name = forms.CharField(max_length=200)
    esp = forms.ChoiceField(label="ESP", choices=[("", "— choose an ESP —"), *ESP_CHOICES])
    # Never pre-filled: credentials, stored or just typed, are not sent back to the browser.
    credentials = forms.CharField(
        required=False,
        strip=False,
        widget=SecretTextarea(
            attrs={"rows": 4, "spellcheck": "false", "autocomplete": "off", "class": "code"}
        ),
        help_text="One setting per line, as key = value, with anymail's names for the ESP "
        "(see the table below). Stored encrypted and never shown again, not even to correct "
        "another field.",
    )

    field_order = ["name", "esp", "credentials"]

    def __init__(self, *args: object, editing: bool = False, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.editing = editing
        self.fields[
            "max_connections"
        ].help_text = "API calls in flight to this ESP across all workers together."
        if editing:
            self.fields["credentials"].label = "Replace credentials"
            self.fields["credentials"].help_text = (
                "The stored credentials are kept and never shown. Leave this empty to keep "
                "them, or enter every setting anew (key = value per line) to replace them all."
            )

    def clean_credentials(self) -> dict[str, str] | None:
        text = self.cleaned_data.get("credentials") or ""
        if self.editing and not text.strip():
            return None  # keep the stored ones
        return parse_credentials(text)

    def service_kwargs(self) -> dict[str, object]:
        """Arguments for create/update_esp_server; credentials None keeps the stored ones."""
        data = {name: self.cleaned_data[name] for name in ("name", "esp", "credentials")}
        return {**data, **self.limits_kwargs()}

    @classmethod
    def for_server(cls, server: SmtpServer) -> EspServerForm:
        # No credentials here: the textarea starts empty, whatever is stored.
        return cls(
            editing=True,
            initial={"name": server.name, "esp": server.esp, **cls.limits_initial(server)},
        )


class DomainLimitForm(ServiceForm):
    domain = forms.CharField(
        max_length=253,
        help_text="The part after the @, such as gmail.com. Each domain is limited on its own.",
    )
    messages_per_minute = forms.IntegerField(
        label="Messages per minute",
        help_text="Across all servers and workers. Workers pick up changes within 30 seconds.",
    )

    default_error_field = "domain"

    @classmethod
    def for_limit(cls, domain_limit: DomainLimit) -> DomainLimitForm:
        return cls(
            initial={
                "domain": domain_limit.domain,
                "messages_per_minute": domain_limit.messages_per_minute,
            }
        )
