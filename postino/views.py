from django.http import HttpRequest, HttpResponse, JsonResponse


def dashboard(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Postino")


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
