"""API tokens: minting and checking. The plaintext exists only in the mint's return value."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from api.models import ApiToken

TOKEN_PREFIX = "pst_"  # noqa: S105 - a marker, not a secret
# Recording every request would turn each read into a write; a minute is
# precise enough to answer "is this token still in use?".
LAST_USED_RESOLUTION = timedelta(minutes=1)


# Token hash -> (valid until, monotonic; the user). Every API call used to
# read the token and its user (two queries, a quarter of a transactional
# send's time); for API_TOKEN_CACHE_SECONDS a process answers from here, so
# a revoked token or a deactivated user may keep working that long.
_recent: dict[str, tuple[float, User]] = {}
_recent_lock = threading.Lock()
_RECENT_MAX = 10_000


def forget_recent_tokens() -> None:
    with _recent_lock:
        _recent.clear()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(*, user: User, name: str = "") -> str:
    """Create a token for ``user`` and return its plaintext (shown once, never stored)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=token[: ApiToken._meta.get_field("prefix").max_length],
        key_hash=hash_token(token),
    )
    return token


def authenticate(token: str) -> User | None:
    """The active user owning ``token``, or None. Authorisation is the caller's job."""
    if not token:
        return None
    key = hash_token(token)
    ttl = float(settings.POSTINO["API_TOKEN_CACHE_SECONDS"])
    now_monotonic = time.monotonic()
    hit = _recent.get(key)
    if hit is not None and hit[0] > now_monotonic:
        return hit[1]
    api_token = ApiToken.objects.select_related("user").filter(key_hash=key).first()
    if api_token is None or not api_token.user.is_active:
        return None
    if ttl > 0:
        with _recent_lock:
            if len(_recent) >= _RECENT_MAX:
                _recent.clear()
            _recent[key] = (now_monotonic + ttl, api_token.user)
    now = timezone.now()
    stale = now - LAST_USED_RESOLUTION
    if api_token.last_used_at is None or api_token.last_used_at < stale:
        # Conditional so concurrent requests with the same token write once.
        ApiToken.objects.filter(pk=api_token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale)
        ).update(last_used_at=now)
    return api_token.user
