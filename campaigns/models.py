from __future__ import annotations

from django.conf import settings
from django.db import models


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
    smtp_server = models.ForeignKey(
        "delivery.SmtpServer", null=True, on_delete=models.PROTECT, related_name="campaigns"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    status_reason = models.CharField(max_length=500, blank=True)
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
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
