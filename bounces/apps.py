from django.apps import AppConfig


class BouncesConfig(AppConfig):
    name = "bounces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Connects anymail's tracking-signal receiver (anymail's documented
        # extension point); the Celery tasks are found in bounces.tasks.
        from bounces import webhooks  # noqa: F401
