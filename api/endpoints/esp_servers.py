"""POST /esp-servers: a sending channel through an ESP's API. Listed, with the
SMTP servers, by GET /smtp-servers; its credentials go in and never come out."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from api.schemas import ErrorOut, EspServerIn, SmtpServerOut
from delivery import services

router = Router(tags=["smtp-servers"])


@router.post("/esp-servers", response={201: SmtpServerOut, 400: ErrorOut})
def create_esp_server(request: HttpRequest, payload: EspServerIn) -> Status[Any]:
    server = services.create_esp_server(
        name=payload.name,
        esp=payload.esp,
        credentials=payload.credentials,
        max_connections=payload.max_connections,
        messages_per_second=payload.messages_per_second,
        messages_per_hour=payload.messages_per_hour,
        messages_per_day=payload.messages_per_day,
        warmup_start_per_day=payload.warmup_start_per_day,
        warmup_growth_factor=payload.warmup_growth_factor,
        warmup_started_on=payload.warmup_started_on,
    )
    return Status(201, server)
