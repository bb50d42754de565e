from django.urls import path

from bounces import mailbox_views, views

app_name = "bounces"

urlpatterns = [
    path("bounces/", views.bounce_index, name="index"),
    path("bounces/policy/", views.policy_edit, name="policy"),
    path("bounces/<int:event_id>/", views.bounce_detail, name="detail"),
    path("bounces/mailboxes/", mailbox_views.mailbox_index, name="mailboxes"),
    path("bounces/mailboxes/add/", mailbox_views.mailbox_create, name="mailbox_create"),
    path("bounces/mailboxes/<int:mailbox_id>/", mailbox_views.mailbox_edit, name="mailbox_edit"),
    path(
        "bounces/mailboxes/<int:mailbox_id>/test/", mailbox_views.mailbox_test, name="mailbox_test"
    ),
    path(
        "bounces/mailboxes/<int:mailbox_id>/poll/", mailbox_views.mailbox_poll, name="mailbox_poll"
    ),
    path(
        "bounces/mailboxes/<int:mailbox_id>/delete/",
        mailbox_views.mailbox_delete,
        name="mailbox_delete",
    ),
    path("suppressions/", views.suppression_index, name="suppressions"),
    path("suppressions/add/", views.suppression_add, name="suppression_add"),
    path(
        "suppressions/<int:suppression_id>/lift/",
        views.suppression_lift,
        name="suppression_lift",
    ),
]
