"""Reads for lists and subscribers."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from subscribers.models import MailingList, Subscriber, Subscription


def lists_with_counts() -> QuerySet[MailingList]:
    return MailingList.objects.annotate(
        confirmed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.CONFIRMED)
        ),
        unconfirmed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.UNCONFIRMED)
        ),
        unsubscribed_count=Count(
            "subscriptions", filter=Q(subscriptions__status=Subscription.Status.UNSUBSCRIBED)
        ),
    )


def search_subscribers(query: str = "") -> QuerySet[Subscriber]:
    qs = Subscriber.objects.order_by("id")
    query = query.strip().lower()
    if query:
        qs = qs.filter(email__contains=query)
    return qs
