"""Opens and clicks rolled up by the hour instead of by the day: a day's
figures become its first hour's (midnight UTC)."""

from datetime import UTC, datetime, time
from typing import Any

import django.db.models.deletion
from django.db import migrations, models


def days_to_hours(apps: Any, schema_editor: Any) -> None:
    day_model = apps.get_model("tracking", "CampaignDay")
    hour_model = apps.get_model("tracking", "CampaignHour")
    batch = []
    for day in day_model.objects.iterator(chunk_size=2000):
        batch.append(
            hour_model(
                campaign_id=day.campaign_id,
                hour=datetime.combine(day.day, time.min, UTC),
                opens=day.opens,
                unique_opens=day.unique_opens,
                machine_opens=day.machine_opens,
                clicks=day.clicks,
                unique_clicks=day.unique_clicks,
                machine_clicks=day.machine_clicks,
            )
        )
        if len(batch) >= 2000:
            hour_model.objects.bulk_create(batch)
            batch = []
    hour_model.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_campaign_track_clicks_campaign_track_opens_and_more"),
        ("tracking", "0003_deletes_by_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="CampaignHour",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("hour", models.DateTimeField()),
                ("opens", models.PositiveIntegerField(default=0)),
                ("unique_opens", models.PositiveIntegerField(default=0)),
                ("machine_opens", models.PositiveIntegerField(default=0)),
                ("clicks", models.PositiveIntegerField(default=0)),
                ("unique_clicks", models.PositiveIntegerField(default=0)),
                ("machine_clicks", models.PositiveIntegerField(default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="campaigns.campaign",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="campaignhour",
            constraint=models.UniqueConstraint(
                fields=("campaign", "hour"), name="campaign_hour_unique"
            ),
        ),
        migrations.RunPython(days_to_hours, migrations.RunPython.noop),
        migrations.DeleteModel(
            name="CampaignDay",
        ),
    ]
