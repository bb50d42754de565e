from django.apps import AppConfig
from django.db.backends.signals import connection_created


class SubscribersConfig(AppConfig):
    name = "subscribers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from subscribers.privacy import register_sqlite_hash

        connection_created.connect(register_sqlite_hash, dispatch_uid="postino-sqlite-sha256")
