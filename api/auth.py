"""Bearer-token authentication for the API: staff accounts only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.errors import AuthorizationError
from ninja.security import HttpBearer

from api import services


class StaffToken(HttpBearer):
    """``Authorization: Bearer <token>``. Unknown token → 401; non-staff owner → 403."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = services.authenticate(token)
        if user is None:
            return None
        if not getattr(user, "is_staff", False):
            raise AuthorizationError(message="This token's account is not on the team.")
        return user
