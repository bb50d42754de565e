"""Django settings for the bench's django-post-office peer, and nothing else.

A project that picked django-post-office instead of Postino: only the
``post_office`` app, its own PostgreSQL database, Django's SMTP backend to a
plain (no TLS, no AUTH) server on loopback. ``bench/peer_post_office.py``
sets the three variables below; a missing or malformed one raises at start-up
rather than sending somewhere else.

* ``PEER_DATABASE_URL``: the peer's own database (recreated by the bench).
* ``PEER_SMTP_PORT``: the sink, directly or through the delay line.
* ``PEER_THREADS``: post_office's ``THREADS_PER_PROCESS`` (its default is 5).
"""

from __future__ import annotations

import os

import dj_database_url

SECRET_KEY = "bench-only-post-office-peer-0123456789abcdefghij"  # signs nothing here
DEBUG = False
ALLOWED_HOSTS: list[str] = []
USE_TZ = True
TIME_ZONE = "UTC"
INSTALLED_APPS = ["post_office"]
DATABASES = {"default": dj_database_url.parse(os.environ["PEER_DATABASE_URL"])}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# post_office renders its EmailTemplate rows through this engine at delivery.
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = "127.0.0.1"
EMAIL_PORT = int(os.environ["PEER_SMTP_PORT"])
EMAIL_USE_TLS = False
EMAIL_USE_SSL = False
EMAIL_TIMEOUT = 30

# Everything else is post_office's default (BATCH_SIZE 100, LOG_LEVEL 2: a Log
# row per message), as a project adopting it would run it.
POST_OFFICE = {"THREADS_PER_PROCESS": int(os.environ["PEER_THREADS"])}
