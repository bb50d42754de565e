from __future__ import annotations

from django.db import models

from postino import crypto


class SmtpServer(models.Model):
    class Security(models.TextChoices):
        NONE = "none", "None (plain text)"
        STARTTLS = "starttls", "STARTTLS"
        TLS = "tls", "Implicit TLS"

    name = models.CharField(max_length=200, unique=True)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=587)
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.STARTTLS)
    username = models.CharField(max_length=320, blank=True, help_text="Empty means no AUTH.")
    password_encrypted = models.TextField(blank=True, editable=False)
    max_connections = models.PositiveIntegerField(default=4)
    messages_per_second = models.FloatField(default=50.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_connections__gte=1), name="smtp_max_connections_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(messages_per_second__gt=0), name="smtp_rate_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.host}:{self.port})"

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)


class Delivery(models.Model):
    """The ledger: one row per (campaign, subscriber), the truth about each send."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    campaign = models.ForeignKey(
        "campaigns.Campaign", on_delete=models.CASCADE, related_name="deliveries"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    smtp_reply = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "subscriber"], name="delivery_unique_per_recipient"
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "status", "id"], name="delivery_claim_idx"),
            models.Index(fields=["claim_token"], name="delivery_claim_token_idx"),
            # Charts: messages sent per minute of a campaign, per day overall.
            models.Index(fields=["campaign", "sent_at"], name="delivery_campaign_sent_idx"),
            models.Index(fields=["sent_at"], name="delivery_sent_at_idx"),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} → subscriber {self.subscriber_id}: {self.status}"

    @property
    def is_terminal(self) -> bool:
        return self.status in {self.Status.SENT, self.Status.FAILED}


class CaughtMessage(models.Model):
    """A message received by the built-in development mail catcher (the Outbox)."""

    mail_from = models.CharField(max_length=320, blank=True)
    rcpt_to = models.JSONField(default=list)
    subject = models.CharField(max_length=998, blank=True)
    raw = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.rcpt_to)}"
