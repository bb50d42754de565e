"""Request and response bodies of API v1. Passwords appear only in inputs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from campaigns.models import Campaign
from campaigns.selectors import CampaignStats, campaign_stats
from delivery.models import SmtpServer
from subscribers.models import MailingList, Subscriber


class ErrorItem(Schema):
    field: str
    message: str
    line: int | None = None


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


# --- Lists ------------------------------------------------------------------
class ListIn(Schema):
    name: str
    optin: MailingList.OptIn = MailingList.OptIn.SINGLE
    description: str = ""


class ListOut(Schema):
    id: int
    name: str
    optin: str
    description: str
    created_at: datetime


class SubscriberCounts(Schema):
    confirmed: int
    unconfirmed: int
    unsubscribed: int


class ListWithCountsOut(ListOut):
    subscribers: SubscriberCounts

    @staticmethod
    def resolve_subscribers(obj: MailingList) -> dict[str, int]:
        # Annotated by subscribers.selectors.lists_with_counts().
        return {
            "confirmed": getattr(obj, "confirmed_count", 0),
            "unconfirmed": getattr(obj, "unconfirmed_count", 0),
            "unsubscribed": getattr(obj, "unsubscribed_count", 0),
        }


class ListCollection(Schema):
    items: list[ListWithCountsOut]


# --- Subscribers ------------------------------------------------------------
class SubscriberIn(Schema):
    email: str
    name: str = ""
    attributes: dict[str, Any] = {}
    lists: list[int] = Field(default=[], description="Mailing list ids to subscribe to.")
    preconfirm: bool = Field(
        default=False, description="Confirm double opt-in lists at once (you vouch for consent)."
    )


class SubscriptionOut(Schema):
    list: int
    status: str


class SubscriberOut(Schema):
    id: int
    email: str
    name: str
    attributes: dict[str, Any]
    status: str
    created_at: datetime
    subscriptions: list[SubscriptionOut]

    @staticmethod
    def resolve_subscriptions(obj: Subscriber) -> list[dict[str, Any]]:
        # .all() reads the prefetch cache when the selector prefetched it.
        return [{"list": s.mailing_list_id, "status": s.status} for s in obj.subscriptions.all()]


class SubscriberPage(Schema):
    items: list[SubscriberOut]
    next_after: int | None = Field(description="Pass as ?after= for the next page; null at end.")


# --- SMTP servers -----------------------------------------------------------
class SmtpServerIn(Schema):
    name: str
    host: str
    port: int = 587
    security: SmtpServer.Security = SmtpServer.Security.STARTTLS
    username: str = Field(default="", description="Empty means no AUTH.")
    password: str = ""
    max_connections: int = 4
    messages_per_second: float = 50.0


class SmtpServerOut(Schema):
    id: int
    name: str
    host: str
    port: int
    security: str
    username: str
    has_password: bool
    max_connections: int
    messages_per_second: float
    created_at: datetime

    @staticmethod
    def resolve_has_password(obj: SmtpServer) -> bool:
        return bool(obj.password_encrypted)


class SmtpServerCollection(Schema):
    items: list[SmtpServerOut]


# --- Campaigns --------------------------------------------------------------
class CampaignIn(Schema):
    name: str
    subject: str
    from_email: str
    html: str
    text: str = ""
    reply_to: str = ""
    lists: list[int] = []
    smtp_server: int | None = None


class CampaignOut(Schema):
    id: int
    name: str
    subject: str
    from_email: str
    status: str
    status_reason: str
    lists: list[int]
    smtp_server: int | None
    created_at: datetime
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None

    @staticmethod
    def resolve_lists(obj: Campaign) -> list[int]:
        return [mailing_list.pk for mailing_list in obj.lists.all()]

    @staticmethod
    def resolve_smtp_server(obj: Campaign) -> int | None:
        return obj.smtp_server_id


class CampaignStatsOut(Schema):
    total: int
    pending: int
    sent: int
    failed: int


class CampaignDetailOut(CampaignOut):
    stats: CampaignStatsOut

    @staticmethod
    def resolve_stats(obj: Campaign) -> CampaignStats:
        # One aggregate query over the ledger; only the detail view pays for it.
        return campaign_stats(obj)


class CampaignPage(Schema):
    items: list[CampaignOut]
    next_before: int | None = Field(
        description="Pass as ?before= for the next (older) page; null at end."
    )


class StartIn(Schema):
    scheduled_at: datetime | None = Field(
        default=None, description="Start later instead of now (ISO 8601 with a time zone)."
    )


class TestSendIn(Schema):
    emails: list[str]


class TestSendOut(Schema):
    recipients: list[str]
