from django.urls import path

from campaigns import layout_views

app_name = "layouts"

urlpatterns = [
    path("layouts/", layout_views.layout_index, name="index"),
    path("layouts/new/", layout_views.layout_create, name="create"),
    path("layouts/<int:layout_id>/", layout_views.layout_edit, name="edit"),
    path("layouts/<int:layout_id>/duplicate/", layout_views.layout_duplicate, name="duplicate"),
    path("layouts/<int:layout_id>/delete/", layout_views.layout_delete, name="delete"),
]
