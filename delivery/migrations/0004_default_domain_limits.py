"""Sensible starting limits for the largest mailbox providers (editable in the UI)."""

from django.db import migrations

DEFAULT_LIMITS = {
    "gmail.com": 1200,
    "googlemail.com": 1200,
    "yahoo.com": 600,
    "outlook.com": 600,
    "hotmail.com": 600,
    "live.com": 600,
    "icloud.com": 300,
}


def add_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    DomainLimit = apps.get_model("delivery", "DomainLimit")
    for domain, per_minute in DEFAULT_LIMITS.items():
        DomainLimit.objects.get_or_create(
            domain=domain, defaults={"messages_per_minute": per_minute}
        )


def remove_defaults(apps, schema_editor):  # type: ignore[no-untyped-def]
    DomainLimit = apps.get_model("delivery", "DomainLimit")
    DomainLimit.objects.filter(domain__in=list(DEFAULT_LIMITS)).delete()


class Migration(migrations.Migration):
    dependencies = [("delivery", "0003_engine_shaping")]

    operations = [migrations.RunPython(add_defaults, remove_defaults)]
