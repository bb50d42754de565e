from django.urls import include, path

from delivery import views

app_name = "delivery"

urlpatterns = [
    path("smtp/", views.smtp_index, name="smtp_index"),
    path("smtp/new/", views.smtp_create, name="smtp_create"),
    path("smtp/new-esp/", views.esp_create, name="esp_create"),
    path("smtp/<int:server_id>/", views.smtp_edit, name="smtp_edit"),
    path("smtp/<int:server_id>/test/", views.smtp_test, name="smtp_test"),
    path("smtp/<int:server_id>/delete/", views.server_delete, name="server_delete"),
    path("smtp/domain-limits/", views.domain_limit_index, name="domain_limit_index"),
    path("smtp/domain-limits/new/", views.domain_limit_create, name="domain_limit_create"),
    path("smtp/domain-limits/<int:limit_id>/", views.domain_limit_edit, name="domain_limit_edit"),
    path(
        "smtp/domain-limits/<int:limit_id>/delete/",
        views.domain_limit_delete,
        name="domain_limit_delete",
    ),
    path("settings/system-mail/", views.system_mail, name="system_mail"),
    path("outbox/", views.outbox_index, name="outbox"),
    path("outbox/clear/", views.outbox_clear, name="outbox_clear"),
    path("outbox/<int:message_id>/", views.outbox_detail, name="outbox_detail"),
    path("outbox/<int:message_id>/raw/", views.outbox_raw, name="outbox_raw"),
    path("domains/", include("delivery.domain_urls")),
    path("operations/", include("delivery.ops_urls")),
]
