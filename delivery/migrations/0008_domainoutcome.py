"""Final outcomes per campaign and recipient domain, tallied from the ledger
so far; from here on the ledger's writes keep them."""

from typing import Any

import django.db.models.deletion
from django.db import migrations, models

_DOMAIN = {
    "postgresql": "lower(split_part(s.email, '@', 2))",
    "sqlite": "lower(substr(s.email, instr(s.email, '@') + 1))",
}


def tally(apps: Any, schema_editor: Any) -> None:
    connection = schema_editor.connection
    domain = _DOMAIN.get(connection.vendor)
    if domain is None:
        return
    delivery = apps.get_model("delivery", "Delivery")._meta.db_table
    subscriber = apps.get_model("subscribers", "Subscriber")._meta.db_table
    outcome = apps.get_model("delivery", "DomainOutcome")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {outcome} (campaign_id, domain, sent, failed) "  # noqa: S608
            f"SELECT d.campaign_id, {domain}, "
            "SUM(CASE WHEN d.status = 'sent' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN d.status = 'failed' THEN 1 ELSE 0 END) "
            f"FROM {delivery} d JOIN {subscriber} s ON s.id = d.subscriber_id "
            "WHERE d.status IN ('sent', 'failed') GROUP BY 1, 2"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0006_campaign_track_clicks_campaign_track_opens_and_more"),
        ("delivery", "0007_system_mail"),
        ("subscribers", "0014_consent_campaign"),
    ]

    operations = [
        migrations.CreateModel(
            name="DomainOutcome",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("domain", models.CharField(max_length=255)),
                ("sent", models.PositiveIntegerField(default=0)),
                ("failed", models.PositiveIntegerField(default=0)),
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
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("campaign", "domain"), name="domain_outcome_unique_per_campaign"
                    )
                ],
            },
        ),
        migrations.RunPython(tally, migrations.RunPython.noop),
    ]
