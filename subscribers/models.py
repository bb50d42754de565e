from __future__ import annotations

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
