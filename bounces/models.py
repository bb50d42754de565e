"""Bounces, complaints and the suppressions they cause."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from postino import crypto


class BounceEvent(models.Model):
    """One report about one recipient: a bounce, a complaint, or something we
    recognised as not being one (auto-replies, delays), kept for the record."""

    class Kind(models.TextChoices):
        HARD = "hard", "Hard bounce"
        SOFT = "soft", "Soft bounce"
        COMPLAINT = "complaint", "Complaint"
        AUTOREPLY = "autoreply", "Auto-reply"
        DELAY = "delay", "Delivery delay"
        NOT_BOUNCE = "not_bounce", "Not a bounce"
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe (ESP)"

    class Source(models.TextChoices):
        SMTP = "smtp", "SMTP reply while sending"
        INBOUND = "inbound", "Bounce server"
        MAILBOX = "mailbox", "Mailbox poll"
        WEBHOOK = "webhook", "ESP webhook"

    kind = models.CharField(max_length=12, choices=Kind.choices)
    source = models.CharField(max_length=8, choices=Source.choices)
    email = models.CharField(max_length=320, blank=True, db_index=True)
    status = models.CharField(max_length=16, blank=True, help_text="RFC 3463, e.g. 5.1.1")
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    action = models.CharField(max_length=16, blank=True)
    diagnostic = models.TextField(blank=True)
    remote_mta = models.CharField(max_length=255, blank=True)
    feedback_type = models.CharField(max_length=32, blank=True)
    provider = models.CharField(max_length=32, blank=True, help_text="ESP, for webhook events")
    event_id = models.CharField(max_length=255, blank=True, help_text="The ESP's event id")
    delivery = models.ForeignKey(
        "delivery.Delivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_events",
    )
    # A transactional message's bounce (the VERP token names it).
    tx_message = models.ForeignKey(
        "transactional.TxMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_events",
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bounce_events",
    )
    raw = models.TextField(blank=True, help_text="The report as received (capped).")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # An ESP re-sends a webhook it thinks we missed: keep each event once.
            models.UniqueConstraint(
                fields=["provider", "event_id"],
                condition=~Q(event_id=""),
                name="bounce_event_unique_per_provider",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "kind"], name="bounce_campaign_kind_idx"),
            models.Index(fields=["email", "kind", "received_at"], name="bounce_email_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.email or '?'}"

    @property
    def suppresses(self) -> bool:
        return self.kind in {self.Kind.HARD, self.Kind.SOFT, self.Kind.COMPLAINT}


class Suppression(models.Model):
    """An address we do not send to, and why. Lifting keeps the record."""

    class Reason(models.TextChoices):
        HARD_BOUNCE = "hard_bounce", "Hard bounce"
        SOFT_BOUNCES = "soft_bounces", "Repeated soft bounces"
        COMPLAINT = "complaint", "Complaint"
        MANUAL = "manual", "Added by an admin"

    email = models.CharField(max_length=320, db_index=True)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    bounce = models.ForeignKey(
        BounceEvent, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    campaign = models.ForeignKey(
        "campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["email"], condition=Q(lifted_at__isnull=True), name="one_active_suppression"
            )
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_reason_display()}"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class BouncePolicy(models.Model):
    """What bounces and complaints do (one row, edited in the UI)."""

    class Action(models.TextChoices):
        SUPPRESS = "suppress", "Suppress the address"
        LOG = "log", "Only log it"

    class ComplaintAction(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", "Unsubscribe from all lists and suppress"
        LOG = "log", "Only log it"

    hard_action = models.CharField(max_length=8, choices=Action.choices, default=Action.SUPPRESS)
    soft_action = models.CharField(max_length=8, choices=Action.choices, default=Action.SUPPRESS)
    soft_threshold = models.PositiveIntegerField(
        default=3, help_text="Soft bounces that suppress an address..."
    )
    soft_window_days = models.PositiveIntegerField(
        default=14, help_text="...within this many days."
    )
    complaint_action = models.CharField(
        max_length=12, choices=ComplaintAction.choices, default=ComplaintAction.UNSUBSCRIBE
    )
    pause_complaint_rate = models.FloatField(
        default=0.003,
        help_text="Pause a running campaign above this complaint rate (0.003 = 0.3%).",
    )
    pause_hard_bounce_rate = models.FloatField(
        default=0.05, help_text="Pause a running campaign above this hard-bounce rate."
    )
    pause_min_sent = models.PositiveIntegerField(
        default=200, help_text="Messages a campaign must have sent before its rates are judged."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "bounce policy"

    def __str__(self) -> str:
        return "Bounce policy"

    @classmethod
    def current(cls) -> BouncePolicy:
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy


class Mailbox(models.Model):
    """An IMAP or POP3 mailbox where bounces arrive, polled by the workers."""

    class Protocol(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"

    class Security(models.TextChoices):
        TLS = "tls", "Implicit TLS"
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", "None (plain text)"

    class AfterProcessing(models.TextChoices):
        DELETE = "delete", "Delete it"
        MOVE = "move", "Move it to a folder (IMAP)"

    name = models.CharField(max_length=200, unique=True)
    protocol = models.CharField(max_length=4, choices=Protocol.choices, default=Protocol.IMAP)
    host = models.CharField(max_length=253)
    port = models.PositiveIntegerField(default=993)
    security = models.CharField(max_length=8, choices=Security.choices, default=Security.TLS)
    username = models.CharField(max_length=320)
    password_encrypted = models.TextField(blank=True, editable=False)
    folder = models.CharField(max_length=200, default="INBOX")
    after_processing = models.CharField(
        max_length=8, choices=AfterProcessing.choices, default=AfterProcessing.DELETE
    )
    move_to = models.CharField(max_length=200, blank=True, default="Processed")
    enabled = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    messages_processed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "mailboxes"

    def __str__(self) -> str:
        return f"{self.name} ({self.protocol}://{self.host}:{self.port})"

    @property
    def password(self) -> str:
        return crypto.decrypt(self.password_encrypted)

    @password.setter
    def password(self, value: str) -> None:
        self.password_encrypted = crypto.encrypt(value)


class InboundMessage(models.Model):
    """A message received by the bounce server, stored before it is processed,
    so a crash between receiving and processing loses nothing."""

    mail_from = models.CharField(max_length=320, blank=True)
    rcpt_to = models.JSONField(default=list)
    raw = models.BinaryField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"from {self.mail_from or '<>'} to {', '.join(self.rcpt_to)}"


class TrackingEvent(models.Model):
    """An ESP webhook event as anymail normalised it, stored once per event id
    and processed by a worker (the webhook answers at once)."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=32)
    recipient = models.CharField(max_length=320, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    reject_reason = models.CharField(max_length=32, blank=True)
    description = models.TextField(blank=True)
    mta_response = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="tracking_event_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.recipient}"
