from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas import ErrorOut, SmtpServerCollection, SmtpServerIn, SmtpServerOut
from delivery import services
from delivery.models import SmtpServer

router = Router(tags=["smtp-servers"])


@router.post("/smtp-servers", response={201: SmtpServerOut, 400: ErrorOut})
def create_smtp_server(request: HttpRequest, payload: SmtpServerIn) -> Status[Any]:
    server = services.create_smtp_server(
        name=payload.name,
        host=payload.host,
        port=payload.port,
        security=payload.security,
        username=payload.username,
        password=payload.password,
        max_connections=payload.max_connections,
        messages_per_second=payload.messages_per_second,
        messages_per_hour=payload.messages_per_hour,
        messages_per_day=payload.messages_per_day,
        warmup_start_per_day=payload.warmup_start_per_day,
        warmup_growth_factor=payload.warmup_growth_factor,
        warmup_started_on=payload.warmup_started_on,
    )
    return Status(201, server)


@router.get("/smtp-servers", response=SmtpServerCollection)
def list_smtp_servers(request: HttpRequest) -> dict[str, Any]:
    return {"items": SmtpServer.objects.order_by("name")}
