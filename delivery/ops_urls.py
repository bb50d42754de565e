"""The operations page, included under /operations/ in the delivery namespace."""

from django.urls import path

from delivery import ops_views as views

urlpatterns = [
    path("", views.operations, name="operations"),
    path("live/", views.operations_live, name="operations_live"),
    path("compliance/", views.operations_compliance, name="operations_compliance"),
    path("data.json", views.operations_data, name="operations_data"),
]
