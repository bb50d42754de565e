"""Who may use the marketer pages.

Every marketer page needs a logged-in, active staff account. Anonymous
visitors are sent to the login page (with ``next``); a logged-in account that
is not on the team gets a 403 page rather than a login loop.

A team member in the ``Viewers`` group (made in the admin) reads every page
and report but changes nothing: any request other than GET, HEAD or OPTIONS
gets a 403, from the pages and from the API alike.
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


VIEWERS_GROUP = "Viewers"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def is_team_member(user: Any) -> bool:
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def is_viewer(user: Any) -> bool:
    """A team member who may look but not change (superusers never are)."""
    if not is_team_member(user) or user.is_superuser:
        return False
    # Asked once per request's user object: a view may ask again.
    cached: bool | None = getattr(user, "_postino_viewer", None)
    if cached is None:
        cached = user.groups.filter(name=VIEWERS_GROUP).exists()
        user._postino_viewer = cached
    return cached


def may_change(user: Any, method: str) -> bool:
    """Whether a team member's request with this method may go ahead."""
    return method.upper() in SAFE_METHODS or not is_viewer(user)


def staff_required(view: ViewFunc) -> ViewFunc:
    """Login required (redirect), then staff required (403)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_team_member(user):
            return render(request, "registration/forbidden.html", status=403)
        if not may_change(user, request.method or "GET"):
            return render(request, "registration/forbidden.html", {"read_only": True}, status=403)
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
