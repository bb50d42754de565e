from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from bounces import services
from bounces.models import BounceEvent, BouncePolicy, Mailbox, Suppression


@admin.register(BounceEvent)
class BounceEventAdmin(admin.ModelAdmin):
    """Reports are written only by the bounce pipeline: read-only here."""

    list_display = ("received_at", "kind", "source", "email", "status", "campaign")
    list_filter = ("kind", "source")
    search_fields = ("email", "event_id")
    raw_id_fields = ("delivery", "campaign", "subscriber")
    list_select_related = ("campaign",)
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[BounceEvent]:
        # The raw report can be 256 KiB: the change list must not load it.
        return super().get_queryset(request).defer("raw")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    """Add and lift suppressions on the Suppressions page, which records who
    lifted one; here the cause and history are read-only."""

    list_display = ("email", "reason", "created_at", "lifted_at", "lifted_by")
    list_filter = ("reason", ("lifted_at", admin.EmptyFieldListFilter))
    search_fields = ("email",)
    list_select_related = ("lifted_by",)
    readonly_fields = ("bounce", "campaign", "created_at", "lifted_at", "lifted_by")
    actions = ["lift"]

    @admin.action(description="Lift the selected suppressions")
    def lift(self, request: HttpRequest, queryset: QuerySet[Suppression]) -> None:
        lifted = 0
        for suppression in queryset.filter(lifted_at__isnull=True):
            services.lift_suppression(suppression=suppression, actor=request.user)
            lifted += 1
        self.message_user(request, f"Lifted {lifted} suppression(s).")


@admin.register(BouncePolicy)
class BouncePolicyAdmin(admin.ModelAdmin):
    """One row; the Bounce policy page edits it with validation."""

    list_display = ("__str__", "hard_action", "soft_action", "complaint_action", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not BouncePolicy.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MailboxAdminForm(forms.ModelForm):
    # Write-only: the stored password is never rendered back.
    new_password = forms.CharField(
        label="Password",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current password.",
    )

    class Meta:
        model = Mailbox
        fields = (
            "name", "protocol", "host", "port", "security", "username", "new_password",
            "folder", "after_processing", "move_to", "enabled",
        )  # fmt: skip

    def save(self, commit: bool = True) -> Mailbox:
        mailbox = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            mailbox.password = self.cleaned_data["new_password"]
        if commit:
            mailbox.save()
        return mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxAdminForm
    list_display = ("name", "protocol", "host", "port", "enabled", "last_polled_at")
    list_filter = ("enabled", "protocol")
    search_fields = ("name", "host", "username")
    readonly_fields = ("last_polled_at", "last_error", "messages_processed")
