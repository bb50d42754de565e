from django.apps import AppConfig


class TrackingConfig(AppConfig):
    name = "tracking"
    verbose_name = "Opens and clicks"
    default_auto_field = "django.db.models.BigAutoField"
