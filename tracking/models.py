"""Opens and clicks: the raw events, who engaged, and the rollups reports read.

Raw events (``Event``) are kept for ``TRACKING_RETENTION_DAYS``; the rollups
(``CampaignHour``, ``LinkStats``, ``DomainStats``) and ``Engagement`` are kept
for good, so a report reads a few rows whatever the events table holds. Each
event carries its verdict (human or machine, and why), never the IP address
or the user agent it was decided on.

Like the send ledger's, references carry no database constraint and no index
beyond what the reports read: ingestion writes thousands of rows a second.
"""

from __future__ import annotations

from typing import Any

from django.db import models


def _reference(
    to: str | type[models.Model],
    *,
    null: bool = False,
    related_name: str = "+",
    db_index: bool = False,
    on_delete: Any = models.CASCADE,
) -> Any:
    """A reference without a constraint (and, unless asked, an index) of its
    own (see above); deleting what it names deletes the row, through Django."""
    return models.ForeignKey(
        to,
        null=null,
        on_delete=on_delete,
        related_name=related_name,
        db_constraint=False,
        db_index=db_index,
    )


class Kind(models.TextChoices):
    OPEN = "open", "Open"
    CLICK = "click", "Click"


class Link(models.Model):
    """A URL a campaign's messages link to (found when its first click arrives)."""

    campaign = _reference("campaigns.Campaign")
    url_hash = models.CharField(max_length=32)
    url = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "url_hash"], name="link_unique_per_campaign"
            )
        ]

    def __str__(self) -> str:
        return self.url


class Event(models.Model):
    campaign = _reference("campaigns.Campaign")
    # Empty in privacy mode: the event names nobody.
    subscriber = _reference("subscribers.Subscriber", null=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # A link goes only with its campaign, whose events go with it (by the
    # campaign's index): looking them up by link would read the whole table.
    link = _reference(Link, null=True, on_delete=models.DO_NOTHING)
    human = models.BooleanField()
    # Why a machine: "apple-mpp", "image-proxy", "scanner-agent", "too-soon", "every-link".
    reason = models.CharField(max_length=16, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "occurred_at"]),
            models.Index(fields=["subscriber", "occurred_at"]),
            models.Index(fields=["occurred_at"], name="event_retention"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of campaign {self.campaign_id} at {self.occurred_at}"


class Engagement(models.Model):
    """One subscriber's opens and clicks of one campaign: the uniques, and what
    segments (opened or clicked in the last N days) and the subscriber page read."""

    campaign = _reference("campaigns.Campaign")
    subscriber = _reference("subscribers.Subscriber", related_name="engagements")
    opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    machine_clicks = models.PositiveIntegerField(default=0)
    first_opened_at = models.DateTimeField(null=True)
    last_opened_at = models.DateTimeField(null=True)
    first_clicked_at = models.DateTimeField(null=True)
    last_clicked_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "subscriber"], name="engagement_unique_per_campaign"
            )
        ]
        # By subscriber alone (segments: "opened in the last N days"): an
        # index on the times would make every ingest's update a non-HOT one.
        indexes = [models.Index(fields=["subscriber"], name="engagement_subscriber")]

    def __str__(self) -> str:
        return f"subscriber {self.subscriber_id} on campaign {self.campaign_id}"


class CampaignHour(models.Model):
    """A campaign's opens and clicks of one hour (UTC): totals, machine, uniques.

    By the hour, so a campaign sent this morning has a timeline today; a
    report sums the hours into days once a campaign's figures span days.
    """

    campaign = _reference("campaigns.Campaign")
    hour = models.DateTimeField()
    opens = models.PositiveIntegerField(default=0)
    unique_opens = models.PositiveIntegerField(default=0)
    machine_opens = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    machine_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "hour"], name="campaign_hour_unique")
        ]

    def __str__(self) -> str:
        return f"campaign {self.campaign_id} at {self.hour}"


class LinkStats(models.Model):
    link = models.OneToOneField(
        Link, on_delete=models.CASCADE, primary_key=True, related_name="stats"
    )
    campaign = _reference("campaigns.Campaign", db_index=True)  # a report reads its links
    clicks = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)
    machine_clicks = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"clicks of link {self.link_id}"


class DomainStats(models.Model):
    """Unique human opens and clicks of a campaign by recipient domain."""

    campaign = _reference("campaigns.Campaign")
    domain = models.CharField(max_length=255)
    unique_opens = models.PositiveIntegerField(default=0)
    unique_clicks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "domain"], name="domain_stats_unique")
        ]

    def __str__(self) -> str:
        return f"{self.domain} on campaign {self.campaign_id}"


class IngestedBatch(models.Model):
    """A queue batch written to the database: a batch claimed again after a
    crash between the commit and the queue's acknowledgement is not counted twice."""

    token = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.token


class LinkClicker(models.Model):
    """Who clicked a link (by a person's click): what makes a link's unique count."""

    link = _reference(Link)
    # Indexed: deleting (or erasing) a subscriber finds their rows by it.
    subscriber = _reference("subscribers.Subscriber", db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["link", "subscriber"], name="link_clicker_unique")
        ]

    def __str__(self) -> str:
        return f"subscriber {self.subscriber_id} on link {self.link_id}"
