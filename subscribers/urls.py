from django.urls import path

from subscribers import views

app_name = "subscribers"

urlpatterns = [
    path("lists/", views.list_index, name="list_index"),
    path("lists/new/", views.list_create, name="list_create"),
    path("lists/<int:list_id>/", views.list_detail, name="list_detail"),
    path("lists/<int:list_id>/edit/", views.list_edit, name="list_edit"),
    path("lists/<int:list_id>/delete/", views.list_delete, name="list_delete"),
    path("subscribers/", views.subscriber_index, name="index"),
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
