from django.http import HttpRequest, HttpResponse
from django.urls import path

app_name = "public"


def _todo(request: HttpRequest, token: str) -> HttpResponse:  # replaced by public views
    return HttpResponse(status=404)


urlpatterns = [
    path("unsubscribe/<str:token>/", _todo, name="unsubscribe"),
    path("one-click/<str:token>/", _todo, name="one_click"),
    path("preferences/<str:token>/", _todo, name="preferences"),
    path("view/<str:token>/", _todo, name="webview"),
]
