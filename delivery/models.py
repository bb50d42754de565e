from __future__ import annotations

import json

from django.db import models

from delivery.esp_catalog import ESPS
from postino import crypto


class SmtpServer(models.Model):
    class Security(models.TextChoices):
        NONE = "none", "None (plain text)"
        STARTTLS = "starttls", "STARTTLS"
        TLS = "tls", "Implicit TLS"

    class Kind(models.TextChoices):
        SMTP = "smtp", "SMTP server"
        ESP = "esp", "Email service provider API"

    name = models.CharField(max_length=200, unique=True)
    # A sending channel: an SMTP server, or an ESP's HTTP API through
    # django-anymail (limits, weights and failover apply to both alike).
    kind = models.CharField(max_length=4, choices=Kind.choices, default=Kind.SMTP)
    esp = models.CharField(
        max_length=32, blank=True, help_text="django-anymail ESP name, e.g. sendgrid, postmark."
    )
    esp_credentials_encrypted = models.TextField(blank=True, editable=False)
    host = models.CharField(max_length=253, blank=True)
    port = models.PositiveIntegerField(default=587)
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.STARTTLS)
    username = models.CharField(max_length=320, blank=True, help_text="Empty means no AUTH.")
    password_encrypted = models.TextField(blank=True, editable=False)
    max_connections = models.PositiveIntegerField(
        default=4, help_text="Open connections to this server, across all workers."
    )
    messages_per_second = models.FloatField(default=50.0)
    messages_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no hourly limit."
    )
    messages_per_day = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty: no daily limit."
    )
    # Warm-up: a new IP or domain starts small and grows daily; the effective
    # daily limit is min(messages_per_day, start * factor ** days since started).
    warmup_start_per_day = models.PositiveIntegerField(null=True, blank=True)
    warmup_growth_factor = models.FloatField(default=1.5)
    warmup_started_on = models.DateField(null=True, blank=True)
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
            models.CheckConstraint(
                condition=models.Q(warmup_growth_factor__gte=1),
                name="smtp_warmup_growth_at_least_1",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.ESP:
            return f"{self.esp_label} (ESP): {self.name}"
        return f"{self.name} ({self.host}:{self.port})"

    @property
    def esp_label(self) -> str:
        """The ESP's display name ("Postmark"); empty for an SMTP server."""
        spec = ESPS.get(self.esp)
        return spec.label if spec else self.esp

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)

    @property
    def esp_credentials(self) -> dict[str, str]:
        """The ESP's settings (API keys...), decrypted; never shown back in the UI."""
        raw = crypto.decrypt(self.esp_credentials_encrypted)
        return dict(json.loads(raw)) if raw else {}

    @esp_credentials.setter
    def esp_credentials(self, value: dict[str, str]) -> None:
        self.esp_credentials_encrypted = crypto.encrypt(json.dumps(value)) if value else ""


class DomainLimit(models.Model):
    """A cap on how fast we send to one recipient domain, across all servers
    and workers, so one big mailbox provider cannot be flooded."""

    domain = models.CharField(max_length=253, unique=True, help_text="e.g. gmail.com")
    messages_per_minute = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(messages_per_minute__gte=1), name="domain_limit_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain}: {self.messages_per_minute}/min"


class Delivery(models.Model):
    """The ledger: one row per (campaign, subscriber), the truth about each send."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CLAIMED = "claimed", "Claimed"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        # Waiting for an A/B test's winner: never claimed until it is released.
        HELD = "held", "Held for the A/B test's winner"

    # Rows still to be sent (or being sent): a campaign is not finished while any remain.
    OPEN_STATUSES = (Status.PENDING, Status.CLAIMED, Status.HELD)

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
    smtp_server = models.ForeignKey(
        SmtpServer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # In an A/B test, the variant this recipient was sent (its index); empty
    # for the rest of the audience until the winner goes out, and outside tests.
    variant = models.PositiveSmallIntegerField(null=True, blank=True)
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    smtp_reply = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    provider_message_id = models.CharField(
        max_length=255,
        blank=True,
        default="",
        db_default="",
        help_text="The ESP's id for the message, for its webhooks.",
    )
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
            # The operations page: the last hour's failed and deferred rows,
            # a few among millions, read without scanning the rest.
            models.Index(
                fields=["updated_at"],
                name="delivery_trouble_idx",
                condition=models.Q(status="failed")
                | models.Q(status="pending", smtp_code__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} → subscriber {self.subscriber_id}: {self.status}"


class DomainOutcome(models.Model):
    """A campaign's final outcomes by recipient domain (the part after the @):
    messages the servers accepted and messages that failed for good.

    Written in the statement that records a batch of outcomes in the ledger
    (``delivery.pipeline.record.apply_outcomes``), so it counts exactly the
    rows that batch changed; a report reads a few rows, not the ledger.
    """

    campaign = models.ForeignKey(
        "campaigns.Campaign",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,  # the unique constraint's index leads with it
    )
    domain = models.CharField(max_length=255)
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "domain"], name="domain_outcome_unique_per_campaign"
            )
        ]

    def __str__(self) -> str:
        return f"{self.domain} on campaign {self.campaign_id}"


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


class SendingDomain(models.Model):
    """A domain we send From, with its DKIM keys (encrypted at rest).

    RSA signs with the selector ``dkim_selector`` and Ed25519 with
    ``<dkim_selector>-ed``, so both can be published and used at once.
    """

    domain = models.CharField(max_length=253, unique=True, help_text="Lower-case, e.g. example.com")
    dkim_selector = models.CharField(max_length=60, default="postino")
    rsa_private_key_encrypted = models.TextField(blank=True, editable=False)
    ed25519_private_key_encrypted = models.TextField(blank=True, editable=False)
    return_path_domain = models.CharField(
        max_length=253,
        blank=True,
        help_text="Bounce (Return-Path) domain for this sender; empty: the global BOUNCE_DOMAIN.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["domain"]

    def __str__(self) -> str:
        return self.domain

    @property
    def rsa_selector(self) -> str:
        return self.dkim_selector

    @property
    def ed25519_selector(self) -> str:
        return f"{self.dkim_selector}-ed"

    @property
    def has_rsa_key(self) -> bool:
        return bool(self.rsa_private_key_encrypted)

    @property
    def has_ed25519_key(self) -> bool:
        return bool(self.ed25519_private_key_encrypted)

    @property
    def rsa_private_key_pem(self) -> str:
        return crypto.decrypt(self.rsa_private_key_encrypted)

    @rsa_private_key_pem.setter
    def rsa_private_key_pem(self, value: str) -> None:
        self.rsa_private_key_encrypted = crypto.encrypt(value)

    @property
    def ed25519_private_key_pem(self) -> str:
        return crypto.decrypt(self.ed25519_private_key_encrypted)

    @ed25519_private_key_pem.setter
    def ed25519_private_key_pem(self, value: str) -> None:
        self.ed25519_private_key_encrypted = crypto.encrypt(value)


class SystemMail(models.Model):
    """Which channel sends Postino's own mail (confirmations, reminders, data
    exports): one row, chosen under Settings. No row, or no server chosen:
    ``CONFIRMATION_SMTP_SERVER`` by name, else the oldest server (the one
    ``bootstrap`` creates from the ``SMTP_*`` variables)."""

    server = models.ForeignKey(
        SmtpServer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "system mail"
        verbose_name_plural = "system mail"

    def __str__(self) -> str:
        return f"system mail via {self.server or 'the default server'}"
