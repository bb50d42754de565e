from django.apps import AppConfig


class SubscribersConfig(AppConfig):
    name = "subscribers"
    default_auto_field = "django.db.models.BigAutoField"
