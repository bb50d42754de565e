from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.fields import BaseTemporalField

from campaigns import schedule
from campaigns.editor import clean_tag_names
from campaigns.models import Campaign, Template
from campaigns.services import extra_servers_of
from delivery.models import SmtpServer
from postino.forms import ServiceForm
from subscribers.models import MailingList, Segment

# Blank rows offered for more servers below the ones already chosen.
EXTRA_SERVER_BLANK_ROWS = 2
MAX_EXTRA_SERVERS = 50

STARTER_HTML = """<h1>Hello {{ subscriber.name or "there" }},</h1>
<p>Write your message here.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a> ·
   <a href="{{ preferences_url }}">Preferences</a></p>
"""


class CampaignForm(ServiceForm):
    # Name, subject, From and body are required by create/update_campaign, not
    # here: the form would stop at an empty one and hide every other problem
    # until the next round.
    name = forms.CharField(max_length=200, required=False, help_text="Only your team sees this.")
    subject = forms.CharField(
        max_length=998, required=False, help_text="A Jinja template, like the body."
    )
    preheader = forms.CharField(
        max_length=255,
        required=False,
        help_text="The line inboxes show after the subject; 40 to 100 characters read best.",
    )
    tags = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Comma-separated, to find campaigns again; new tags are made as you save.",
    )
    public_archive = forms.BooleanField(
        label="Show in the public archive",
        required=False,
        help_text="Once sent, a web version anyone can read, with sample data for personal parts.",
    )
    editor = forms.ChoiceField(
        label="Write in",
        choices=Campaign.Editor.choices,
        initial=Campaign.Editor.RICH,
        # Optional so a form posted without it (a script, an older page) means
        # HTML, the mode every campaign had before there were modes.
        required=False,
        help_text=(
            "Switching from HTML or rich text to Markdown may lose layout and styles; "
            "the HTML below is what is sent in every mode."
        ),
    )
    source = forms.CharField(
        label="Markdown",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 16, "class": "code", "spellcheck": "true"}),
        help_text=(
            "Used in Markdown mode: the HTML is made from it when you save. "
            "Jinja tags such as {{ subscriber.name }} are kept as written."
        ),
    )
    from_email = forms.CharField(
        label="From",
        max_length=320,
        required=False,
        help_text="For example: News <news@example.com>",
    )
    reply_to = forms.CharField(label="Reply-To", max_length=320, required=False)
    lists = forms.ModelMultipleChoiceField(
        queryset=MailingList.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    segments = forms.ModelMultipleChoiceField(
        label="Also send to segments",
        queryset=Segment.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Their matches who are confirmed on any list receive it too.",
    )
    excluded_segments = forms.ModelMultipleChoiceField(
        label="Leave out segments",
        queryset=Segment.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Nobody these match receives it, whatever their lists.",
    )
    smtp_server = forms.ModelChoiceField(
        label="SMTP server",
        queryset=SmtpServer.objects.all(),
        required=False,
        empty_label="— choose a server —",
    )
    smtp_weight = forms.IntegerField(
        label="Weight",
        initial=1,
        required=False,
        help_text="The main server's share of the traffic, against the weights below.",
    )
    max_error_rate = forms.DecimalField(
        label="Pause above this error rate (%)",
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
    )
    max_errors = forms.IntegerField(label="Pause after failures in a row", required=False)
    track_opens = forms.BooleanField(
        label="Track opens",
        required=False,
        help_text="A one-pixel image; Apple's and other mail proxies' opens are counted apart.",
    )
    track_clicks = forms.BooleanField(
        label="Track clicks",
        required=False,
        help_text="Links go through a signed redirect; unsubscribe and preference links never do.",
    )
    tracking_privacy = forms.BooleanField(
        label="Privacy mode",
        required=False,
        help_text="Count opens and clicks without recording who opened or clicked.",
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
        required=False,
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
    # Marks the editor's textareas for static/js/editor.js; without JavaScript
    # they stay plain textareas and the form works the same.
    EDITOR_WIDGET_ATTRS = {"html": "html", "source": "markdown"}

    def __init__(
        self,
        data: Any = None,
        *,
        initial: dict[str, Any] | None = None,
        server_rows: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(data, initial=initial)
        conf = settings.POSTINO
        self.fields["max_error_rate"].help_text = (
            f"Counted once {conf['ERROR_RATE_MIN_SAMPLE']} messages were attempted. "
            f"Empty: the default, {percent(float(conf['MAX_ERROR_RATE']))}%."
        )
        self.fields[
            "max_errors"
        ].help_text = f"Empty: the default, {conf['MAX_CONSECUTIVE_FAILURES']}."
        # One query for the choices of every row (a ModelChoiceField per row
        # would query once per row).
        self._servers = {server.pk: server for server in SmtpServer.objects.all()}
        choices = [("", "— none —"), *((pk, str(s)) for pk, s in self._servers.items())]
        self.servers = ExtraServerFormSet(
            data, prefix="servers", initial=server_rows, form_kwargs={"choices": choices}
        )
        # Service errors about the extra servers, shown beside their rows.
        self.server_errors: list[str] = []
        for name, mode in self.EDITOR_WIDGET_ATTRS.items():
            self.fields[name].widget.attrs["data-editor-body"] = mode

    @classmethod
    def blank(cls) -> CampaignForm:
        return cls(
            initial={
                "from_email": settings.DEFAULT_FROM_EMAIL,
                "html": STARTER_HTML,
                "editor": Campaign.Editor.RICH,
                "track_opens": settings.POSTINO["TRACK_OPENS"],
                "track_clicks": settings.POSTINO["TRACK_CLICKS"],
            }
        )

    @classmethod
    def for_campaign(cls, campaign: Campaign) -> CampaignForm:
        return cls(
            initial={
                "name": campaign.name,
                "subject": campaign.subject,
                "preheader": campaign.preheader,
                "tags": ", ".join(tag.name for tag in campaign.tags.all()),
                "public_archive": campaign.public_archive,
                "editor": campaign.editor,
                "source": campaign.source,
                "from_email": campaign.from_email,
                "reply_to": campaign.reply_to,
                "lists": list(campaign.lists.all()),
                "segments": list(campaign.segments.all()),
                "excluded_segments": list(campaign.excluded_segments.all()),
                "smtp_server": campaign.smtp_server,
                "smtp_weight": campaign.smtp_weight,
                "template": campaign.template,
                "html": campaign.html,
                "text": campaign.text,
                "max_error_rate": (
                    None if campaign.max_error_rate is None else percent(campaign.max_error_rate)
                ),
                "max_errors": campaign.max_errors,
                "track_opens": campaign.track_opens,
                "track_clicks": campaign.track_clicks,
                "tracking_privacy": campaign.tracking_privacy,
            },
            server_rows=[
                {"smtp_server": server.pk, "weight": weight}
                for server, weight in extra_servers_of(campaign)
            ],
        )

    def is_valid(self) -> bool:
        # Both, always: every row's errors must show, not only the first part's.
        form_ok = super().is_valid()
        rows_ok = self.servers.is_valid()
        return form_ok and rows_ok

    def service_kwargs(self) -> dict[str, Any]:
        """Arguments for create/update_campaign: the rate as a fraction, rows as servers."""
        data = dict(self.cleaned_data)
        data["tags"] = clean_tag_names(data["tags"])
        data["editor"] = data["editor"] or Campaign.Editor.HTML
        if data["smtp_weight"] is None:
            data["smtp_weight"] = 1
        rate = data["max_error_rate"]
        data["max_error_rate"] = None if rate is None else float(rate / 100)
        data["extra_servers"] = [
            (self._servers[row["smtp_server"]], row["weight"])
            for row in self.servers.cleaned_data
            if row.get("smtp_server") is not None
        ]
        return data

    def add_service_error(self, exc: ValidationError) -> None:
        if hasattr(exc, "error_dict") and "extra_smtp_servers" in exc.error_dict:
            for key, messages in exc.message_dict.items():
                if key == "extra_smtp_servers":
                    self.server_errors.extend(messages)
                else:
                    self.add_error(self._target(key), messages)
            self.add_template_problems_of(exc)
            return
        super().add_service_error(exc)


def percent(fraction: float) -> str:
    """0.075 → "7.5": a fraction as a percentage without float noise."""
    return f"{fraction * 100:.2f}".rstrip("0").rstrip(".")


class ExtraServerForm(forms.Form):
    smtp_server = forms.TypedChoiceField(
        label="Server", required=False, coerce=int, empty_value=None
    )
    weight = forms.IntegerField(label="Weight", required=False, initial=1)

    def __init__(self, *args: Any, choices: list[tuple[Any, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["smtp_server"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("smtp_server") is not None and data.get("weight") is None:
            self.add_error("weight", "Give this server a weight (1 or more).")
        return data


ExtraServerFormSet = forms.formset_factory(
    ExtraServerForm,
    extra=EXTRA_SERVER_BLANK_ROWS,
    max_num=MAX_EXTRA_SERVERS,
    absolute_max=MAX_EXTRA_SERVERS,
)


class WallClockField(forms.DateTimeField):
    """A date and time as typed, without a zone: the form reads it in the zone chosen
    beside it. (``DateTimeField`` would read it in TIME_ZONE before the form saw the zone.)"""

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime):
            return value.replace(tzinfo=None)
        parsed = BaseTemporalField.to_python(self, value)
        assert parsed is None or isinstance(parsed, datetime)
        return parsed


class ScheduleForm(forms.Form):
    """A wall-clock date and time and the IANA zone it is in; ``instant()`` is the moment."""

    scheduled_at = WallClockField(
        label="Date and time",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    schedule_timezone = forms.ChoiceField(label="Time zone", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = self.fields["schedule_timezone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = schedule.zone_choices()
        zone.initial = zone.initial or schedule.site_zone_name()

    @classmethod
    def for_campaign(cls, campaign: Campaign, **kwargs: Any) -> Any:
        """Prefilled with the campaign's schedule, in the zone it was chosen in."""
        initial: dict[str, Any] = {}
        if campaign.scheduled_at is not None:
            local = schedule.in_zone(campaign.scheduled_at, campaign.schedule_timezone)
            initial = {
                "scheduled_at": local.replace(tzinfo=None),
                "schedule_timezone": campaign.schedule_timezone or schedule.site_zone_name(),
            }
        return cls(initial=initial, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        local = data.get("scheduled_at")
        self._instant: datetime | None = None
        if local is not None:
            try:
                self._instant = schedule.local_to_instant(local, self.zone_name())
            except ValidationError as exc:
                self.add_error("scheduled_at", exc.message_dict["scheduled_at"])
        return data

    def zone_name(self) -> str:
        """The chosen zone; blank when none was posted (the site's zone)."""
        return str(self.cleaned_data.get("schedule_timezone") or "")

    def instant(self) -> datetime | None:
        return self._instant

    def local_value(self) -> str:
        """The date and time as posted, to post back unchanged from a confirmation."""
        local = self.cleaned_data.get("scheduled_at")
        return local.strftime("%Y-%m-%dT%H:%M") if local else ""

    def add_service_error(self, exc: ValidationError) -> bool:
        """Put a refused schedule beside its field; False for other problems."""
        if not hasattr(exc, "error_dict"):
            return False
        placed = False
        for name in ("scheduled_at", "schedule_timezone"):
            if name in exc.error_dict:
                self.add_error(name, exc.message_dict[name])
                placed = True
        return placed


class StartForm(ScheduleForm):
    """Start or schedule; the first POST asks for confirmation, ``confirmed`` starts."""

    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["scheduled_at"].label = "Schedule (optional)"
        self.fields["scheduled_at"].help_text = "In the time zone below. Leave empty to start now."
        if not self.is_bound:
            # campaign_detail.html preselects the browser's zone in a fresh form.
            self.fields["schedule_timezone"].widget.attrs["data-browser-zone"] = ""


class RescheduleForm(ScheduleForm):
    """A new time for a scheduled campaign; posted with the ``re`` prefix, since the
    campaign page shows it beside the start form."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "re")
        super().__init__(*args, **kwargs)
        self.fields["scheduled_at"].label = "New date and time"


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
