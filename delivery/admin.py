from django.contrib import admin

from delivery.models import Delivery, SendingDomain, SmtpServer


@admin.register(SmtpServer)
class SmtpServerAdmin(admin.ModelAdmin):
    # The encrypted password is not editable here (and never displayed);
    # change it on the SMTP servers page of the UI.
    list_display = ("name", "host", "port", "security", "max_connections", "messages_per_second")
    search_fields = ("name", "host")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    """The ledger is written only by the send pipeline: read-only here."""

    list_display = ("campaign", "subscriber", "status", "attempts", "smtp_code", "sent_at")
    list_filter = ("status",)
    search_fields = ("subscriber__email", "message_id")
    raw_id_fields = ("campaign", "subscriber")
    list_select_related = ("campaign", "subscriber")
    show_full_result_count = False

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SendingDomain)
class SendingDomainAdmin(admin.ModelAdmin):
    # Private keys are not editable fields, so they never appear here; keys are
    # generated, imported and shown as DNS records on the Sending domains pages.
    list_display = ("domain", "dkim_selector", "return_path_domain", "updated_at")
    search_fields = ("domain",)
    fields = ("domain", "dkim_selector", "return_path_domain")
