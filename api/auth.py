"""Bearer-token authentication for the API: staff accounts only; a viewer's
token reads and never changes (``postino.permissions``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from api import services
from postino.permissions import may_change


class StaffToken(HttpBearer):
    """``Authorization: Bearer <token>``. Unknown token → 401; non-staff owner
    → 403; a viewer's token on anything but a read → 403."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.authenticate(token)
        if user is None:
            return None
        if not getattr(user, "is_staff", False):
            raise AuthorizationError(message="This token's account is not on the team.")
        if not may_change(user, request.method or "GET"):
            raise AuthorizationError(
                message="This token's account is a viewer: it can read, not change."
            )
        return user
