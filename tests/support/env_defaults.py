"""Loaded as a pytest plugin (``-p``) so these defaults apply before Django's
settings are imported: the suite talks to real PostgreSQL and Redis."""

from __future__ import annotations

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("BASE_URL", "https://postino.example.com")
# Playwright's sync API runs an event loop in the test thread; the ORM calls we
# make beside it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Links in emails are https (BASE_URL above), but the test client and the live
# server speak plain HTTP.
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
