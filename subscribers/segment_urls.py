from django.urls import path

from subscribers import segment_views

app_name = "segments"

urlpatterns = [
    path("", segment_views.segment_index, name="index"),
    path("new/", segment_views.segment_create, name="create"),
    path("count/", segment_views.segment_count, name="count"),
    path("<int:segment_id>/", segment_views.segment_detail, name="detail"),
    path("<int:segment_id>/edit/", segment_views.segment_edit, name="edit"),
    path("<int:segment_id>/delete/", segment_views.segment_delete, name="delete"),
    path("<int:segment_id>/export.csv", segment_views.segment_export, name="export"),
]
