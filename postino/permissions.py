"""Who may use the marketer pages.

Every marketer page needs a logged-in, active staff account. Anonymous
visitors are sent to the login page (with ``next``); a logged-in account that
is not on the team gets a 403 page rather than a login loop.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponseBase
from django.shortcuts import render

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., HttpResponseBase])


def is_team_member(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def staff_required(view: ViewFunc) -> ViewFunc:
    """Login required (redirect), then staff required (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_team_member(user):
            return render(request, "registration/forbidden.html", status=403)
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapper)


def mailcatcher_required(view: ViewFunc) -> ViewFunc:
    """The Outbox exists only while the built-in mail catcher is enabled."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not settings.POSTINO["MAILCATCHER_ENABLED"]:
            raise Http404("The mail catcher is not enabled.")
        return view(request, *args, **kwargs)

    return cast(ViewFunc, wrapper)
