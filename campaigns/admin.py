from django.contrib import admin

from campaigns.models import Campaign, Template


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "updated_at")
    search_fields = ("name",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    """Read-mostly: campaigns are created, edited and started in the Postino UI,
    where templates are validated and sending goes through the services."""

    list_display = ("name", "status", "smtp_server", "created_at", "started_at", "finished_at")
    list_filter = ("status",)
    search_fields = ("name", "subject")
    readonly_fields = (
        "status", "status_reason", "started_at", "finished_at", "created_at", "updated_at",
        "created_by",
    )  # fmt: skip
    filter_horizontal = ("lists",)
