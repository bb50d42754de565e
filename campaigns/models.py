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


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SCHEDULED = "scheduled", "Scheduled"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"

    name = models.CharField(max_length=200)
    subject = models.CharField(max_length=998)
    from_email = models.CharField(max_length=320)
    reply_to = models.CharField(max_length=320, blank=True)
    html = models.TextField()
    text = models.TextField(blank=True, help_text="Plain-text part; generated from HTML if empty.")
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
