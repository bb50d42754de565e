"""Helpers for public-page tests."""

from __future__ import annotations

from subscribers.models import Subscriber

# Browsers send Origin with every form POST; Django checks it on HTTPS.
ORIGIN = {"Origin": "https://testserver"}


def active_lists(subscriber: Subscriber) -> set[str]:
    return set(
        subscriber.subscriptions.exclude(status="unsubscribed").values_list(
            "mailing_list__name", flat=True
        )
    )
