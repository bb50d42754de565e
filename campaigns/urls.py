from django.urls import path

from campaigns import ab_views, preview_views, report_views, views

app_name = "campaigns"

urlpatterns = [
    path("campaigns/", views.campaign_index, name="index"),
    path("campaigns/new/", views.campaign_create, name="create"),
    path("campaigns/compare/", report_views.campaign_compare, name="compare"),
    path("campaigns/preview/live/", preview_views.campaign_live_preview, name="live_preview"),
    path("campaigns/<int:campaign_id>/", views.campaign_detail, name="detail"),
    path("campaigns/<int:campaign_id>/edit/", views.campaign_edit, name="edit"),
    path("campaigns/<int:campaign_id>/stats.json", views.campaign_stats_json, name="stats"),
    path(
        "campaigns/<int:campaign_id>/report.csv",
        report_views.campaign_report_csv,
        name="report_csv",
    ),
    path("campaigns/<int:campaign_id>/activity/", views.campaign_activity, name="activity"),
    path("campaigns/<int:campaign_id>/preview/", views.campaign_preview, name="preview"),
    path("campaigns/<int:campaign_id>/start/", views.campaign_start, name="start"),
    path("campaigns/<int:campaign_id>/pause/", views.campaign_pause, name="pause"),
    path("campaigns/<int:campaign_id>/resume/", views.campaign_resume, name="resume"),
    path("campaigns/<int:campaign_id>/cancel/", views.campaign_cancel, name="cancel"),
    path("campaigns/<int:campaign_id>/reschedule/", views.campaign_reschedule, name="reschedule"),
    path("campaigns/<int:campaign_id>/unschedule/", views.campaign_unschedule, name="unschedule"),
    path("campaigns/<int:campaign_id>/test/", views.campaign_send_test, name="send_test"),
    path("campaigns/<int:campaign_id>/delete/", views.campaign_delete, name="delete"),
    path("campaigns/<int:campaign_id>/archive/", views.campaign_archive, name="archive"),
    path("campaigns/<int:campaign_id>/unarchive/", views.campaign_unarchive, name="unarchive"),
    path("campaigns/<int:campaign_id>/duplicate/", views.campaign_duplicate, name="duplicate"),
    path("campaigns/<int:campaign_id>/ab-test/", ab_views.ab_test_edit, name="ab_test"),
    path("campaigns/<int:campaign_id>/ab-winner/", ab_views.ab_test_winner, name="ab_winner"),
]
