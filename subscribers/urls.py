from django.urls import path

from subscribers import blocklist_views, export_views, import_views, views

app_name = "subscribers"

urlpatterns = [
    path("lists/", views.list_index, name="list_index"),
    path("lists/new/", views.list_create, name="list_create"),
    path("lists/<int:list_id>/", views.list_detail, name="list_detail"),
    path("lists/<int:list_id>/edit/", views.list_edit, name="list_edit"),
    path("lists/<int:list_id>/delete/", views.list_delete, name="list_delete"),
    path("lists/<int:list_id>/export.csv", views.list_export, name="list_export"),
    path("imports/", import_views.import_index, name="import_index"),
    path("imports/new/", import_views.import_create, name="import_create"),
    path("imports/<int:import_id>/", import_views.import_detail, name="import_detail"),
    path("imports/<int:import_id>/live/", import_views.import_progress, name="import_progress"),
    path("imports/<int:import_id>/cancel/", import_views.import_cancel, name="import_cancel"),
    path("imports/<int:import_id>/skipped.csv", import_views.import_report, name="import_report"),
    path("lists/<int:list_id>/export/", export_views.export_list, name="export_list_start"),
    path(
        "segments/<int:segment_id>/export/",
        export_views.export_segment,
        name="export_segment_start",
    ),
    path("exports/<int:export_id>/", export_views.export_detail, name="export_detail"),
    path("exports/<int:export_id>/live/", export_views.export_progress, name="export_progress"),
    path("exports/<int:export_id>/download/", export_views.export_download, name="export_download"),
    path("blocklist/", blocklist_views.blocklist_index, name="blocklist"),
    path(
        "blocklist/<int:entry_id>/remove/",
        blocklist_views.blocklist_remove,
        name="blocklist_remove",
    ),
    path("subscribers/", views.subscriber_index, name="index"),
    path("subscribers/bulk/", views.bulk_start, name="bulk_start"),
    path("subscribers/bulk/<int:action_id>/", views.bulk_detail, name="bulk_detail"),
    path("subscribers/bulk/<int:action_id>/live/", views.bulk_progress, name="bulk_progress"),
    path("subscribers/bulk/<int:action_id>/cancel/", views.bulk_cancel, name="bulk_cancel"),
    path("subscribers/new/", views.subscriber_create, name="create"),
    path("subscribers/<int:subscriber_id>/", views.subscriber_detail, name="detail"),
    path(
        "subscribers/<int:subscriber_id>/subscriptions/<int:subscription_id>/confirm/",
        views.subscription_confirm,
        name="subscription_confirm",
    ),
    path(
        "subscribers/<int:subscriber_id>/subscriptions/<int:subscription_id>/resend/",
        views.subscription_resend_confirmation,
        name="subscription_resend",
    ),
    path("subscribers/<int:subscriber_id>/edit/", views.subscriber_edit, name="edit"),
    path("subscribers/<int:subscriber_id>/delete/", views.subscriber_delete, name="delete"),
]
