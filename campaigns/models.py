from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

if TYPE_CHECKING:
    from delivery.models import SmtpServer


class Template(models.Model):
    """A reusable HTML layout; campaigns fill its ``{% block content %}``."""

    name = models.CharField(max_length=200, unique=True)
    html = models.TextField(
        help_text="Jinja2 HTML layout containing {% block content %}{% endblock %}."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _track_opens_default() -> bool:
    return bool(settings.POSTINO["TRACK_OPENS"])


def _track_clicks_default() -> bool:
    return bool(settings.POSTINO["TRACK_CLICKS"])


class Tag(models.Model):
    """A label marketers put on campaigns to find them again ("promo", "2027")."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    class Editor(models.TextChoices):
        RICH = "rich", "Rich text"
        MARKDOWN = "markdown", "Markdown"
        HTML = "html", "HTML"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"

    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=998)
    # The line mail clients show after the subject, before the message is opened.
    preheader = models.CharField(max_length=255, blank=True, default="", db_default="")
    from_email = models.CharField(max_length=320)
    reply_to = models.CharField(max_length=320, blank=True)
    # How the body is written; ``html`` is what is sent in every mode. In
    # Markdown mode ``source`` is the Markdown that ``html`` is made from.
    editor = models.CharField(
        max_length=8, choices=Editor.choices, default=Editor.HTML, db_default=Editor.HTML
    )
    source = models.TextField(blank=True, default="", db_default="")
    html = models.TextField()
    text = models.TextField(blank=True, help_text="Plain-text part; generated from HTML if empty.")
    tags = models.ManyToManyField(Tag, related_name="campaigns", blank=True)
    template = models.ForeignKey(
        Template, null=True, blank=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    lists = models.ManyToManyField("subscribers.MailingList", related_name="campaigns")
    # Everyone on the lists plus everyone the segments match, minus everyone
    # an excluded segment matches (campaigns.selectors.audience_condition).
    segments = models.ManyToManyField("subscribers.Segment", related_name="campaigns", blank=True)
    excluded_segments = models.ManyToManyField(
        "subscribers.Segment", related_name="excluding_campaigns", blank=True
    )
    smtp_server = models.ForeignKey(
        "delivery.SmtpServer", null=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    extra_smtp_servers: models.ManyToManyField[SmtpServer, CampaignServer] = models.ManyToManyField(
        "delivery.SmtpServer",
        through="CampaignServer",
        related_name="+",
        blank=True,
        help_text="More servers sharing the load with the main one, by weight.",
    )
    smtp_weight = models.PositiveIntegerField(
        default=1, help_text="Share of the traffic for the main SMTP server."
    )
    # Circuit breaker: pause automatically when too many messages fail.
    max_error_rate = models.FloatField(
        null=True, blank=True, help_text="Fraction from 0 to 1; empty uses the default."
    )
    max_errors = models.PositiveIntegerField(
        null=True, blank=True, help_text="Failures in a row; empty uses the default."
    )
    # Tracking (see the tracking app): an open pixel, links rewritten to signed
    # redirects, and in privacy mode counts that name nobody. The defaults
    # come from settings (TRACK_OPENS, TRACK_CLICKS).
    track_opens = models.BooleanField(default=_track_opens_default)
    track_clicks = models.BooleanField(default=_track_clicks_default)
    tracking_privacy = models.BooleanField(
        default=False,
        help_text="Count opens and clicks without tying them to a subscriber.",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    # The zone the schedule was chosen in (an IANA name), to show and edit it
    # as it was entered; ``scheduled_at`` itself is an instant.
    schedule_timezone = models.CharField(max_length=64, blank=True, default="", db_default="")
    # Opt-in: once sent, a public web version on the archive page and its
    # feed, personalisation replaced by sample data.
    public_archive = models.BooleanField(default=False, db_default=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Archived campaigns leave the default campaign index; their ledger and
    # figures stay as they are. Only finished or cancelled campaigns archive.
    archived_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status"])]

    def __str__(self) -> str:
        return self.name

    @property
    def is_editable(self) -> bool:
        return self.status in {self.Status.DRAFT, self.Status.SCHEDULED}

    @property
    def is_archivable(self) -> bool:
        return self.status in {self.Status.FINISHED, self.Status.CANCELLED}


class CampaignServer(models.Model):
    """An additional SMTP server of a campaign with its share of the traffic."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="server_links")
    smtp_server = models.ForeignKey("delivery.SmtpServer", on_delete=models.PROTECT)
    weight = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "smtp_server"], name="campaign_server_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(weight__gte=1), name="campaign_server_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"server {self.smtp_server_id}, weight {self.weight}"


class AbTest(models.Model):
    """A campaign's A/B test: variants go to a test share of the audience,
    split evenly; after ``wait_minutes`` the winner goes to the rest."""

    class Metric(models.TextChoices):
        OPENS = "opens", "Opens by people"
        CLICKS = "clicks", "Clicks by people"
        MANUAL = "manual", "Chosen by hand"

    class Phase(models.TextChoices):
        TESTING = "testing", "Sending the variants"
        WAITING = "waiting", "Waiting for results"
        SENDING_WINNER = "sending_winner", "Sending the winner"
        DONE = "done", "Done"

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="ab_test")
    test_percent = models.PositiveSmallIntegerField(default=20)
    wait_minutes = models.PositiveIntegerField(default=60)
    metric = models.CharField(max_length=8, choices=Metric.choices, default=Metric.OPENS)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.TESTING)
    # The winning variant's index, once chosen; how it was chosen.
    winner = models.PositiveSmallIntegerField(null=True, blank=True)
    chosen_by = models.CharField(max_length=16, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(test_percent__gte=1, test_percent__lte=90),
                name="ab_test_percent_range",
            )
        ]

    def __str__(self) -> str:
        return f"A/B test of campaign {self.campaign_id}"


class AbVariant(models.Model):
    """One variant: what it changes (empty fields keep the campaign's)."""

    ab_test = models.ForeignKey(AbTest, on_delete=models.CASCADE, related_name="variants")
    index = models.PositiveSmallIntegerField()
    subject = models.CharField(max_length=998, blank=True)
    from_name = models.CharField(max_length=200, blank=True)
    html = models.TextField(blank=True)

    class Meta:
        ordering = ["index"]
        constraints = [
            models.UniqueConstraint(fields=["ab_test", "index"], name="ab_variant_unique_index")
        ]

    def __str__(self) -> str:
        return f"variant {self.index} of {self.ab_test}"
