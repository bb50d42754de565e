"""Reads over the delivery ledger: timelines for charts, recent failures."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMinute
from django.utils import timezone

from campaigns.models import Campaign
from delivery.models import Delivery, SmtpServer, SystemMail

TIMELINE_MINUTES = 60
# A short campaign still gets a readable chart, not one bar filling the width.
MIN_TIMELINE_MINUTES = 15


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def campaign_sent_per_minute(campaign: Campaign) -> list[tuple[datetime, int]]:
    """Messages accepted per minute over the campaign's last hour of sending.

    Every minute of the window is present (zeros included) so gaps show.
    """
    if campaign.started_at is None:
        return []
    end = _minute(campaign.finished_at or timezone.now())
    start = max(_minute(campaign.started_at), end - timedelta(minutes=TIMELINE_MINUTES - 1))
    start = min(start, end - timedelta(minutes=MIN_TIMELINE_MINUTES - 1))
    counts = dict(
        Delivery.objects.filter(
            campaign=campaign, sent_at__gte=start, sent_at__lt=end + timedelta(minutes=1)
        )
        .annotate(minute=TruncMinute("sent_at"))
        .order_by()
        .values_list("minute")
        .annotate(n=Count("id"))
        .values_list("minute", "n")
    )
    minutes = int((end - start).total_seconds() // 60) + 1
    return [
        (start + timedelta(minutes=i), counts.get(start + timedelta(minutes=i), 0))
        for i in range(minutes)
    ]


def sent_per_day(days: int = 30) -> list[tuple[datetime, int]]:
    """Messages accepted per day, all campaigns, for the last ``days`` days."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()))
    counts = dict(
        Delivery.objects.filter(sent_at__gte=start)
        .annotate(day=TruncDate("sent_at"))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        (
            timezone.make_aware(datetime.combine(first + timedelta(days=i), datetime.min.time())),
            counts.get(first + timedelta(days=i), 0),
        )
        for i in range(days)
    ]


def recent_failures(campaign: Campaign, limit: int = 10) -> QuerySet[Delivery]:
    return (
        Delivery.objects.filter(campaign=campaign, status=Delivery.Status.FAILED)
        .select_related("subscriber")
        .order_by("-id")[:limit]
    )


def chosen_system_mail_server() -> SmtpServer | None:
    """The server picked under Settings → System mail, if any."""
    row = SystemMail.objects.select_related("server").first()
    return row.server if row is not None else None


def system_mail_server() -> SmtpServer | None:
    """The channel Postino's own mail goes through: the one chosen under
    Settings, else ``CONFIRMATION_SMTP_SERVER`` by name, else the oldest server
    (the one ``bootstrap`` creates from ``SMTP_*``, or the mail catcher)."""
    chosen = chosen_system_mail_server()
    if chosen is not None:
        return chosen
    name = settings.POSTINO["CONFIRMATION_SMTP_SERVER"]
    if name:
        return SmtpServer.objects.filter(name=name).first()
    return SmtpServer.objects.order_by("pk").first()


def campaigns_using_server(server_id: int) -> list[str]:
    """Names of campaigns that send (or sent) through the server, as main or extra one."""
    return list(
        Campaign.objects.filter(
            Q(smtp_server_id=server_id) | Q(server_links__smtp_server_id=server_id)
        )
        .order_by("name")
        .values_list("name", flat=True)
        .distinct()
    )
