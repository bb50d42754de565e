from django.urls import path

from transactional import views

app_name = "transactional"

urlpatterns = [
    path("", views.index, name="index"),
    path("templates/", views.template_index, name="template_index"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/preview/", views.template_preview, name="template_preview"),
    path("templates/<int:template_id>/", views.template_detail, name="template_detail"),
    path("templates/<int:template_id>/edit/", views.template_edit, name="template_edit"),
    path("templates/<int:template_id>/delete/", views.template_delete, name="template_delete"),
    path("categories/", views.category_index, name="category_index"),
    path("categories/new/", views.category_create, name="category_create"),
    path("categories/<int:category_id>/", views.category_edit, name="category_edit"),
    path("categories/<int:category_id>/delete/", views.category_delete, name="category_delete"),
    path("credentials/", views.credential_index, name="credential_index"),
    path("credentials/new/", views.credential_create, name="credential_create"),
    path("credentials/<int:credential_id>/", views.credential_edit, name="credential_edit"),
    path(
        "credentials/<int:credential_id>/revoke/",
        views.credential_revoke,
        name="credential_revoke",
    ),
    path("messages/", views.message_index, name="message_index"),
    path("messages/<uuid:public_id>/", views.message_detail, name="message_detail"),
]
