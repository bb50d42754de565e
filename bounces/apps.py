from django.apps import AppConfig


class BouncesConfig(AppConfig):
    name = "bounces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the Celery tasks these modules define and anymail's
        # tracking-signal receiver (anymail's documented extension point).
        from bounces import inbound, webhooks  # noqa: F401
