from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from api.urls import api
from postino import favicon, health, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("healthz", health.healthz, name="healthz"),
    # Early: programs call the API hundreds of times a second, and every
    # pattern tried before a match costs each call (its paths shadow nothing).
    path("api/v1/", api.urls),
    path("favicon.ico", favicon.favicon, name="favicon"),
    path("metrics", include("postino.metrics")),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("subscribers.urls")),
    path("segments/", include("subscribers.segment_urls")),
    path("forms/", include("subscribers.form_urls")),
    path("", include("campaigns.urls")),
    path("", include("campaigns.layout_urls")),
    path("", include("media.urls")),  # the media library and the public /m/ file URLs
    path("", include("delivery.urls")),
    path("", include("bounces.urls")),
    path("transactional/", include("transactional.urls")),
    path("s/", include("subscribers.public_urls")),
    path("t/", include("tracking.urls")),
    path("archive/", include("campaigns.archive_urls")),
    path("webhooks/anymail/", include("anymail.urls")),
    path("admin/", admin.site.urls),
]
