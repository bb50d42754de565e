from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower


class Subscriber(models.Model):
    class Status(models.TextChoices):
        ENABLED = "enabled", "Enabled"
        BLOCKLISTED = "blocklisted", "Blocklisted"

    # Always stored lower-cased (see services.normalize_email), so uniqueness
    # is case-insensitive and lookups can use the plain unique index.
    email = models.EmailField(max_length=320, unique=True)
    name = models.CharField(max_length=200, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="subscriber_email_lowercase"
            )
        ]

    def __str__(self) -> str:
        return self.email


class MailingList(models.Model):
    class OptIn(models.TextChoices):
        SINGLE = "single", "Single opt-in"
        DOUBLE = "double", "Double opt-in"

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    optin = models.CharField(max_length=8, choices=OptIn.choices, default=OptIn.SINGLE)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Subscription(models.Model):
    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Unconfirmed"
        CONFIRMED = "confirmed", "Confirmed"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    class ConfirmedVia(models.TextChoices):
        SINGLE = "single", "Single opt-in list"
        CALLER = "caller", "Added as confirmed"
        LINK = "link", "Confirmation link"
        STAFF = "staff", "Confirmed by staff"

    subscriber = models.ForeignKey(
        Subscriber, on_delete=models.CASCADE, related_name="subscriptions"
    )
    mailing_list = models.ForeignKey(
        MailingList, on_delete=models.CASCADE, related_name="subscriptions"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UNCONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Consent evidence for double opt-in: when we asked, how the subscription
    # was confirmed, and by whom (the link's visitor IP, or the staff member).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_via = models.CharField(
        max_length=8, choices=ConfirmedVia.choices, blank=True, default=""
    )
    confirmed_ip = models.GenericIPAddressField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "mailing_list"], name="subscription_unique_per_list"
            )
        ]
        indexes = [models.Index(fields=["mailing_list", "status", "subscriber"])]

    def __str__(self) -> str:
        return f"{self.subscriber_id} in {self.mailing_list_id}: {self.status}"
