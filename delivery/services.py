"""Writes for SMTP servers, and the connection check behind "Test connection"."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from delivery.models import CaughtMessage, SmtpServer
from delivery.smtp import ConnectionCheck, SmtpSettings, check_connection


def _validate(
    *,
    name: str,
    host: str,
    port: int,
    security: str,
    max_connections: int,
    messages_per_second: float,
) -> None:
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Give the server a name."
    if not host.strip() or any(c.isspace() for c in host.strip()):
        errors["host"] = "Enter a host name or IP address."
    if not 1 <= int(port) <= 65535:
        errors["port"] = "Port must be between 1 and 65535."
    if security not in SmtpServer.Security.values:
        errors["security"] = f"Security must be one of {', '.join(SmtpServer.Security.values)}."
    if int(max_connections) < 1:
        errors["max_connections"] = "At least one connection."
    if float(messages_per_second) <= 0:
        errors["messages_per_second"] = "Must be greater than zero."
    if errors:
        raise ValidationError(errors)


def create_smtp_server(
    *,
    name: str,
    host: str,
    port: int,
    security: str = SmtpServer.Security.STARTTLS,
    username: str = "",
    password: str = "",
    max_connections: int = 4,
    messages_per_second: float = 50.0,
) -> SmtpServer:
    _validate(
        name=name,
        host=host,
        port=port,
        security=security,
        max_connections=max_connections,
        messages_per_second=messages_per_second,
    )
    server = SmtpServer(
        name=name.strip(),
        host=host.strip(),
        port=int(port),
        security=security,
        username=username.strip(),
        max_connections=int(max_connections),
        messages_per_second=float(messages_per_second),
    )
    server.password = password
    try:
        with transaction.atomic():
            server.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A server named {name.strip()!r} already exists."}) from exc
    return server


def update_smtp_server(
    *,
    server: SmtpServer,
    name: str,
    host: str,
    port: int,
    security: str,
    username: str,
    password: str | None,
    max_connections: int,
    messages_per_second: float,
) -> SmtpServer:
    """Update a server. ``password=None`` keeps the stored one (forms never show it back)."""
    _validate(
        name=name,
        host=host,
        port=port,
        security=security,
        max_connections=max_connections,
        messages_per_second=messages_per_second,
    )
    server.name = name.strip()
    server.host = host.strip()
    server.port = int(port)
    server.security = security
    server.username = username.strip()
    if password is not None:
        server.password = password
    server.max_connections = int(max_connections)
    server.messages_per_second = float(messages_per_second)
    try:
        with transaction.atomic():
            server.save()
    except IntegrityError as exc:
        raise ValidationError({"name": f"A server named {name.strip()!r} already exists."}) from exc
    return server


def check_smtp_server(server: SmtpServer) -> ConnectionCheck:
    """Connect, negotiate TLS and authenticate; report exactly which step failed."""
    return check_connection(SmtpSettings.from_server(server))


def clear_outbox() -> int:
    """Delete every message the development mail catcher holds; returns the count."""
    deleted, _ = CaughtMessage.objects.all().delete()
    return deleted
