from django.apps import AppConfig


class TransactionalConfig(AppConfig):
    name = "transactional"
    verbose_name = "Transactional email"
    default_auto_field = "django.db.models.BigAutoField"
