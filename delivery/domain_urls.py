"""Sending domains pages, included under /delivery/domains/ in the delivery namespace."""

from django.urls import path

from delivery import domain_views as views

urlpatterns = [
    path("", views.domain_index, name="domain_index"),
    path("new/", views.domain_create, name="domain_create"),
    path("<int:domain_id>/", views.domain_detail, name="domain_detail"),
    path("<int:domain_id>/check/", views.domain_check, name="domain_check"),
    path("<int:domain_id>/import/", views.domain_import, name="domain_import"),
    path("<int:domain_id>/regenerate/", views.domain_regenerate, name="domain_regenerate"),
    path("<int:domain_id>/delete/", views.domain_delete, name="domain_delete"),
]
