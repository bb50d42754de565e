"""Links in emails (built by ``campaigns.personalize``): keep these names stable."""

from django.urls import path

from subscribers import public_views

app_name = "public"

urlpatterns = [
    path("unsubscribe/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("one-click/<str:token>/", public_views.one_click, name="one_click"),
    path("preferences/<str:token>/", public_views.preferences, name="preferences"),
    path("view/<str:token>/", public_views.webview, name="webview"),
    path("confirm/<str:token>/", public_views.confirm, name="confirm"),
]
