from django.contrib import admin

from subscribers.models import MailingList, Subscriber, Subscription


class SubscriptionInline(admin.TabularInline):
    model = Subscription
    extra = 0
    raw_id_fields = ("mailing_list",)
    readonly_fields = ("created_at", "confirmed_at", "unsubscribed_at")


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ("email", "name", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("email", "name")
    readonly_fields = ("created_at", "updated_at")
    inlines = [SubscriptionInline]
    show_full_result_count = False  # COUNT(*) over millions of rows on every page


@admin.register(MailingList)
class MailingListAdmin(admin.ModelAdmin):
    list_display = ("name", "optin", "created_at")
    list_filter = ("optin",)
    search_fields = ("name",)
