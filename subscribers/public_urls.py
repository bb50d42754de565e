"""Links in emails (built by ``campaigns.personalize``): keep these names stable."""

from django.urls import path

from subscribers import public_views, signup_views

app_name = "public"

urlpatterns = [
    path("unsubscribe/<str:token>/", public_views.unsubscribe, name="unsubscribe"),
    path("one-click/<str:token>/", public_views.one_click, name="one_click"),
    path("preferences/<str:token>/", public_views.preferences, name="preferences"),
    path("preferences/<str:token>/my-data.json", public_views.my_data, name="my_data"),
    path("preferences/<str:token>/erase/", public_views.erase, name="erase"),
    path("view/<str:token>/", public_views.webview, name="webview"),
    path("confirm/<str:token>/", public_views.confirm, name="confirm"),
    path("join/<slug:slug>/", signup_views.signup, name="signup"),
    path("join/<slug:slug>/challenge/", signup_views.signup_challenge, name="signup_challenge"),
]
