from django.urls import path, re_path

from media import views

app_name = "media"

urlpatterns = [
    path("media/", views.library, name="library"),
    path("media/library.json", views.library_json, name="library_json"),
    path("media/upload/", views.upload, name="upload"),
    path("media/<int:media_id>/delete/", views.delete, name="delete"),
    # The stable, public address of a file: its content hash and extension.
    re_path(r"^m/(?P<name>[0-9a-f]{32}\.(?:png|jpg|gif|webp))$", views.serve, name="serve"),
]
