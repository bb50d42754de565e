"""API v1: JSON over HTTPS, ``Authorization: Bearer <token>`` (staff accounts only).

Mounted at ``/api/v1/`` by ``postino.urls``; the OpenAPI document is served
unauthenticated at ``/api/v1/openapi.json`` and browsable at ``/api/v1/docs``.
"""

from __future__ import annotations

from ninja import NinjaAPI

from api import errors
from api.auth import StaffToken
from api.endpoints import (
    blocklist,
    campaigns,
    domain_limits,
    esp_servers,
    imports,
    lists,
    segments,
    sending_domains,
    smtp_servers,
    subscribers,
    tx,
)

api = NinjaAPI(
    title="Postino API",
    version="1",
    description="Lists, subscribers, imports, segments, sending servers (SMTP and ESP), domain "
    "limits, sending domains, campaigns, the blocklist and transactional mail. "
    "Create a token with `manage.py create_api_token <username>`.",
    urls_namespace="api",
    auth=StaffToken(),
)
errors.install(api, body_params={"payload"})
api.add_router("", lists.router)
api.add_router("", subscribers.router)
api.add_router("", imports.router)
api.add_router("", segments.router)
api.add_router("", blocklist.router)
api.add_router("", smtp_servers.router)
api.add_router("", esp_servers.router)
api.add_router("", domain_limits.router)
api.add_router("", campaigns.router)
api.add_router("", sending_domains.router)
api.add_router("", tx.router)
