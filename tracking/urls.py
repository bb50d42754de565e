from django.urls import path

from tracking import views

app_name = "tracking"

urlpatterns = [
    path("o/<str:token>.gif", views.open_pixel, name="open"),
    path("c/<str:token>/<str:url>", views.click, name="click"),
]
