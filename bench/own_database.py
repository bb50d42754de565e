"""A bench's own PostgreSQL database and the Django environment pointed at it.

Benches recreate a database of their own on ``DATABASE_URL``'s server, so they
never touch the tests' or the product's data and can run beside the suite.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

BENCH_SECRET_KEY = "bench-only-secret-key-0123456789abcdefghij"


def recreate(name: str) -> str:
    """Drop and create database ``name``; return its URL."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postino")
    url = urlunsplit(urlsplit(base)._replace(path=f"/{name}"))
    admin = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    return url


def use(url: str) -> None:
    """Settings for a Django set up after this: that database, quiet logs."""
    os.environ.update(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": os.environ.get("SECRET_KEY", BENCH_SECRET_KEY),
            "LOG_LEVEL": "WARNING",
        }
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")


def serve_pages_without_collectstatic() -> None:
    """Let a bench render pages with the test client under production settings:
    the test client's host allowed, and static files named by the plain
    storage (the manifest one needs a collectstatic a bench does not run)."""
    from django.conf import settings

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
