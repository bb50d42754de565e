"""``{{ campaign|schedule_label }}``: "2027-03-01 09:00 Europe/Berlin (08:00 UTC)"."""

from __future__ import annotations

from django import template

from campaigns import schedule
from campaigns.models import Campaign

register = template.Library()


@register.filter
def schedule_label(campaign: Campaign) -> str:
    if campaign.scheduled_at is None:
        return ""
    return schedule.describe(campaign.scheduled_at, campaign.schedule_timezone)
