from django.urls import path

from bounces import views

app_name = "bounces"

urlpatterns = [
    path("bounces/", views.bounce_index, name="index"),
    path("bounces/policy/", views.policy_edit, name="policy"),
    path("bounces/<int:event_id>/", views.bounce_detail, name="detail"),
    path("suppressions/", views.suppression_index, name="suppressions"),
    path("suppressions/add/", views.suppression_add, name="suppression_add"),
    path(
        "suppressions/<int:suppression_id>/lift/",
        views.suppression_lift,
        name="suppression_lift",
    ),
]
