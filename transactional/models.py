"""Transactional email: one message per recipient, sent at once, ahead of bulk.

A business's applications hand Postino their order confirmations, password
resets and alerts through the API (``POST /api/v1/tx``) or the SMTP relay
(``manage.py smtp_relay``). Each recipient becomes one ``TxMessage``, the
transactional ledger, holding the finished MIME message (``TxPayload``) from
the moment it is accepted: the worker only adds the envelope and our
signature, so nothing the sender wrote can fail later.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Category(models.Model):
    """What kind of mail a message is ("password-reset", "receipts", "digest").

    Marketing categories get a List-Unsubscribe header and always honour
    unsubscribes; other categories honour them unless marked exempt. Hard
    bounces, complaints and the blocklist apply to every category.
    """

    name = models.SlugField(max_length=64, unique=True)
    description = models.CharField(max_length=300, blank=True)
    marketing = models.BooleanField(
        default=False,
        help_text="Promotional mail: adds List-Unsubscribe and always honours unsubscribes.",
    )
    exempt_from_unsubscribes = models.BooleanField(
        default=False,
        help_text=(
            "Reaches people who unsubscribed from the lists (password resets, receipts). "
            "Never reaches hard-bounced, complaining or blocklisted addresses."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(
                condition=~(Q(marketing=True) & Q(exempt_from_unsubscribes=True)),
                name="tx_category_marketing_never_exempt",
            )
        ]

    def __str__(self) -> str:
        return self.name


class TxTemplate(models.Model):
    """A transactional template: Jinja2 in the sandbox, the send's ``data`` as variables."""

    name = models.CharField(max_length=200, unique=True)
    description = models.CharField(max_length=300, blank=True)
    subject = models.CharField(max_length=998)
    html = models.TextField()
    text = models.TextField(blank=True, help_text="Empty: derived from the HTML.")
    # The data the preview renders with, and the save checks against.
    sample_data = models.JSONField(default=dict, blank=True)
    from_email = models.CharField(
        max_length=320, blank=True, help_text='"Name <address>"; empty: DEFAULT_FROM_EMAIL.'
    )
    reply_to = models.CharField(max_length=320, blank=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="templates"
    )
    # Off by default: a password reset's link through our redirect, or a
    # pixel in a receipt, is a choice to make per template.
    track_opens = models.BooleanField(default=False)
    track_clicks = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RelayCredential(models.Model):
    """One application's login to the SMTP relay, with its limits.

    The password is random (32 bytes) and stored as its SHA-256, like API
    tokens: a secret that long needs no slow hash, and the relay can check
    hundreds of logins a second.
    """

    name = models.CharField(max_length=200, unique=True)
    username = models.CharField(max_length=64, unique=True)
    password_hash = models.CharField(max_length=64, editable=False)
    # Lower-case domains the From address may use; empty: any.
    allowed_from_domains = models.JSONField(default=list, blank=True)
    messages_per_minute = models.PositiveIntegerField(null=True, blank=True)
    messages_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_message_bytes = models.PositiveIntegerField(default=10 * 1024 * 1024)
    channel = models.ForeignKey(
        "delivery.SmtpServer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class TxPayload(models.Model):
    """The finished MIME message, as accepted; several recipients of one relay
    message share one payload."""

    raw = models.BinaryField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"payload {self.pk} ({len(self.raw or b'')} bytes)"


class TxMessage(models.Model):
    """The transactional ledger: one row per recipient, the truth about its send."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        DEFERRED = "deferred", "Deferred (will retry)"
        BOUNCED = "bounced", "Bounced"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused (not sent)"

    # Waiting for (or being given) a turn: the worker's claim reads these.
    OPEN_STATUSES = (Status.QUEUED, Status.DEFERRED, Status.SENDING)

    class Source(models.TextChoices):
        API = "api", "API"
        RELAY = "relay", "SMTP relay"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    source = models.CharField(max_length=5, choices=Source.choices)
    email = models.CharField(max_length=320)
    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tx_messages",
    )
    template = models.ForeignKey(
        TxTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    credential = models.ForeignKey(
        RelayCredential, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    # The channel asked for; empty: the transactional default (TX_CHANNEL).
    channel = models.ForeignKey(
        "delivery.SmtpServer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    payload = models.ForeignKey(
        TxPayload, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    from_email = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # When the message is due: when accepted, then after each deferral.
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claim_token = models.UUIDField(null=True, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    smtp_server = models.ForeignKey(
        "delivery.SmtpServer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    smtp_code = models.PositiveIntegerField(null=True, blank=True)
    smtp_reply = models.TextField(blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)
    # The first open and click judged a person's (tracking.ingest), for
    # templates that track them.
    opened_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's claim: due rows in order, a few among millions sent.
            models.Index(
                fields=["next_attempt_at", "id"],
                name="tx_due_idx",
                condition=Q(status__in=["queued", "deferred"]),
            ),
            models.Index(
                fields=["lease_until"], name="tx_lease_idx", condition=Q(status="sending")
            ),
            models.Index(fields=["claim_token"], name="tx_claim_idx"),
            models.Index(fields=["email", "created_at"], name="tx_email_idx"),
            models.Index(fields=["created_at"], name="tx_created_idx"),
            models.Index(fields=["template", "created_at"], name="tx_template_idx"),
            models.Index(fields=["provider_message_id"], name="tx_provider_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.public_id} → {self.email}: {self.status}"


class IdempotencyRecord(models.Model):
    """The first answer to a request carrying an idempotency key, kept for
    ``TX_IDEMPOTENCY_HOURS``: a repeat within the window gets it back and
    sends nothing."""

    # Whose key: "token:<id>" for an API token, "relay:<id>" for a credential.
    scope = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    # SHA-256 of the request, so reusing a key for another request is refused.
    fingerprint = models.CharField(max_length=64)
    response = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="tx_idempotency_unique")
        ]
        indexes = [models.Index(fields=["created_at"], name="tx_idempotency_age_idx")]

    def __str__(self) -> str:
        return f"{self.scope}: {self.key}"
