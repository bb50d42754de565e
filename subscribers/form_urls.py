from django.urls import path

from subscribers import form_views

app_name = "signup_forms"

urlpatterns = [
    path("", form_views.form_index, name="index"),
    path("new/", form_views.form_create, name="create"),
    path("<int:form_id>/", form_views.form_edit, name="edit"),
    path("<int:form_id>/delete/", form_views.form_delete, name="delete"),
]
