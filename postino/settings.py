"""Postino settings: one module, fed only by the environment (see README's table)."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from postino.env import env_bool, env_float, env_int, env_list, env_str, read_env_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("POSTINO_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# `make run` keeps generated keys in var/secrets.env; reading them here lets a
# second terminal's `manage.py` commands share that instance's keys.
_LOCAL_SECRETS_FILE = VAR_DIR / "secrets.env"
_local_secrets = read_env_file(_LOCAL_SECRETS_FILE) if _LOCAL_SECRETS_FILE.is_file() else {}

SECRET_KEY = env_str("SECRET_KEY") or _local_secrets.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set (or run with DEBUG=true for development)"
        )
    # Development only: a stable key so sessions survive restarts of `make run`.
    SECRET_KEY = "dev-insecure-" + hashlib.sha256(str(BASE_DIR).encode()).hexdigest()


def _derive_fernet_key(secret: str) -> str:
    digest = hashlib.sha256(("postino.encryption:" + secret).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Fernet keys used to encrypt secrets at rest (SMTP passwords). Several keys,
# comma-separated, allow rotation: the first encrypts, all decrypt. Without one,
# a key is derived from SECRET_KEY, which then must never change.
ENCRYPTION_KEYS = (
    env_list("ENCRYPTION_KEY", [])
    or [k for k in _local_secrets.get("ENCRYPTION_KEY", "").split(",") if k]
    or [_derive_fernet_key(SECRET_KEY)]
)

BASE_URL = env_str("BASE_URL", "http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(BASE_URL)
if _base.scheme not in {"http", "https"} or not _base.hostname:
    raise ImproperlyConfigured(f"BASE_URL must be an absolute http(s) URL, got {BASE_URL!r}")
BASE_HOST = _base.hostname


def _mail_domain(host: str) -> str:
    """A host usable after the @ of an address: IP addresses need brackets."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[IPv6:{ip}]" if ip.version == 6 else f"[{ip}]"


ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [BASE_HOST, "localhost", "127.0.0.1"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"{_base.scheme}://{_base.netloc}"])
# Subscribers' pages answer a CSRF failure with a way through, not a bare 403.
CSRF_FAILURE_VIEW = "subscribers.public_views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "anymail",
    "ninja",
    "postino",
    "subscribers",
    "campaigns",
    "delivery",
    "bounces",
    "tracking",
    "api",
    "media",
    "transactional",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "postino.urls"
WSGI_APPLICATION = "postino.wsgi.application"
ASGI_APPLICATION = "postino.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "postino.context_processors.postino",
            ],
        },
    },
]

# Connections are per thread and kept for DATABASE_CONN_MAX_AGE seconds; what
# bounds their number is the fixed thread pool of each process (gunicorn's
# WEB_THREADS, Celery's concurrency; docs/operations.md, "Database connections").
# A kept connection is checked before reuse (at most once a second), so a
# PostgreSQL restart costs a reconnect instead of failed requests.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'postino.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The same backend, its health check at most once a second (postino/postgresql).
    DATABASES["default"]["ENGINE"] = "postino.postgresql"
    # psycopg prepares a statement after this many executions: in effect only
    # the statements that ask (postino/postgresql). Off behind a pooler that
    # cannot keep prepared statements (PgBouncer before 1.21, or without
    # max_prepared_statements). Beside the URL's own options (?sslmode=...).
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        2**31 - 1 if env_bool("DATABASE_PREPARED_STATEMENTS", True) else None
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + a busy timeout let the web process, workers and beat share one file.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- Media uploads (images in emails; the media app) ---------------------------
# On disk under the var dir, served by media.views.serve; or in an S3-compatible
# bucket when MEDIA_S3_BUCKET is set, which then serves the files itself.
MEDIA_DIR = Path(env_str("MEDIA_DIR", str(VAR_DIR / "media")))
_MEDIA_S3_BUCKET = env_str("MEDIA_S3_BUCKET")
STORAGES["media"] = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _MEDIA_S3_BUCKET,
            "endpoint_url": env_str("MEDIA_S3_ENDPOINT_URL") or None,
            "region_name": env_str("MEDIA_S3_REGION") or None,
            "access_key": env_str("MEDIA_S3_ACCESS_KEY_ID") or None,
            "secret_key": env_str("MEDIA_S3_SECRET_ACCESS_KEY") or None,
            # Public, unsigned URLs: an email shows them for years.
            "querystring_auth": False,
            "file_overwrite": True,  # names are content hashes: same name, same bytes
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
    if _MEDIA_S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage",
          "OPTIONS": {"location": MEDIA_DIR, "base_url": "/m/"}}
)  # fmt: skip

# --- Security (production defaults; DEBUG relaxes what needs HTTPS) ----------
SECURE_HTTPS = _base.scheme == "https"
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SECURE_HTTPS and not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if SECURE_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
# The preload flag alone enrolls nothing: only the domain owner's submission to
# the browsers' list does. Sending it keeps `check --deploy` clean.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HTTPS)
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_X_FORWARDED_PROTO", False) else None
)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- Redis and Celery -------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = "postino"
# Transactional mail has its own queue and workers (`-Q postino-tx`), so a
# worker busy with campaign chunks never holds a password reset back.
CELERY_TASK_ROUTES = {"transactional.tasks.*": {"queue": "postino-tx"}}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redelivery of a task whose worker died: must exceed the longest chunk.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# --- Sending ----------------------------------------------------------------
POSTINO: dict[str, Any] = {
    # Recipients claimed by one task; the lease is renewed while the chunk runs.
    "CHUNK_SIZE": env_int("SEND_CHUNK_SIZE", 500, minimum=1),
    # Chunk tasks kept in flight per running campaign.
    "PARALLEL_CHUNKS": env_int("SEND_PARALLEL_CHUNKS", 4, minimum=1),
    "LEASE_SECONDS": env_int("SEND_LEASE_SECONDS", 120, minimum=5),
    # A connection slot (the shared cap on a server's connections) whose
    # holder stops refreshing it, a killed worker, frees itself this long after.
    "SLOT_TTL_SECONDS": env_int("SEND_SLOT_TTL_SECONDS", 30, minimum=3),
    "MAX_ATTEMPTS": env_int("SEND_MAX_ATTEMPTS", 5, minimum=1),
    "RETRY_BASE_SECONDS": env_float("SEND_RETRY_BASE_SECONDS", 60.0),
    "RETRY_MAX_SECONDS": env_float("SEND_RETRY_MAX_SECONDS", 3600.0),
    "SMTP_TIMEOUT": env_float("SMTP_TIMEOUT", 30.0),
    # How often a running chunk re-reads its campaign's status (pause/cancel).
    "STATUS_CHECK_SECONDS": env_float("SEND_STATUS_CHECK_SECONDS", 1.0),
    "TICK_SECONDS": env_float("SEND_TICK_SECONDS", 5.0),
    # Tracking: the defaults of new campaigns, how often the ingest worker
    # drains the event queue, and how long raw events are kept (rollups stay).
    "TRACK_OPENS": env_bool("TRACK_OPENS", True),
    "TRACK_CLICKS": env_bool("TRACK_CLICKS", True),
    "TRACKING_INGEST_SECONDS": env_float("TRACKING_INGEST_SECONDS", 1.0),
    "TRACKING_RETENTION_DAYS": env_int("TRACKING_RETENTION_DAYS", 180, minimum=1),
    # A batch an ingest worker claimed but never acknowledged (it died) is
    # taken over after this long.
    "TRACKING_CLAIM_LEASE_SECONDS": env_int("TRACKING_CLAIM_LEASE_SECONDS", 60, minimum=2),
    "TRACKING_INGEST_BATCH": env_int("TRACKING_INGEST_BATCH", 2000, minimum=1),
    # Circuit breaker defaults (a campaign can override the first two).
    "MAX_CONSECUTIVE_FAILURES": env_int("SEND_MAX_CONSECUTIVE_FAILURES", 100, minimum=1),
    "MAX_ERROR_RATE": env_float("SEND_MAX_ERROR_RATE", 0.25),
    "ERROR_RATE_MIN_SAMPLE": env_int("SEND_ERROR_RATE_MIN_SAMPLE", 200, minimum=1),
    "MAX_CONNECT_FAILURES": env_int("SEND_MAX_CONNECT_FAILURES", 5, minimum=1),
    "BOUNCE_DOMAIN": env_str("BOUNCE_DOMAIN", _mail_domain(BASE_HOST)),
    "BOUNCE_LOCALPART": env_str("BOUNCE_LOCALPART", "bounces"),
    "UNSUBSCRIBE_MAILTO_LOCALPART": env_str("UNSUBSCRIBE_MAILTO_LOCALPART", "unsubscribe"),
    # The bounce server (manage.py bounce_server): where it listens, and the
    # certificate it offers with STARTTLS (none: plain SMTP only).
    # How often the workers poll the bounce mailboxes (IMAP/POP3) set in the UI.
    "BOUNCE_POLL_SECONDS": env_float("BOUNCE_POLL_SECONDS", 60.0),
    "BOUNCE_SERVER_HOST": env_str("BOUNCE_SERVER_HOST", "127.0.0.1"),
    "BOUNCE_SERVER_PORT": env_int("BOUNCE_SERVER_PORT", 2525, minimum=1),
    "BOUNCE_SERVER_TLS_CERT": env_str("BOUNCE_SERVER_TLS_CERT"),
    "BOUNCE_SERVER_TLS_KEY": env_str("BOUNCE_SERVER_TLS_KEY"),
    # The built-in mail catcher (development): an SMTP server on loopback whose
    # messages appear on the Outbox page.
    "MAILCATCHER_ENABLED": env_bool("MAILCATCHER_ENABLED", DEBUG),
    "MAILCATCHER_HOST": env_str("MAILCATCHER_HOST", "127.0.0.1"),
    # The public web archive (/archive/): sent campaigns opted in, with sample
    # data instead of a reader's. Off: every archive page and the feed are 404.
    "PUBLIC_ARCHIVE": env_bool("PUBLIC_ARCHIVE", True),
    "MAILCATCHER_PORT": env_int("MAILCATCHER_PORT", 1025, minimum=1),
    # The server (by name) that sends double opt-in confirmation emails, from
    # DEFAULT_FROM_EMAIL; empty: the oldest server (see subscribers.confirmation).
    "CONFIRMATION_SMTP_SERVER": env_str("CONFIRMATION_SMTP_SERVER"),
    # One reminder this many days after the confirmation email (0: none), and
    # unconfirmed subscriptions let go after this many days (0: never).
    "CONFIRMATION_REMINDER_DAYS": env_int("CONFIRMATION_REMINDER_DAYS", 3, minimum=0),
    "CONFIRMATION_EXPIRY_DAYS": env_int("CONFIRMATION_EXPIRY_DAYS", 30, minimum=0),
    "CONFIRMATION_SWEEP_SECONDS": env_int("CONFIRMATION_SWEEP_SECONDS", 600, minimum=10),
    # Public signup forms: the proof of work's largest number (the work a
    # browser does, about 0.1 s per 100,000 here), and sign-ups per IP per window.
    "SIGNUP_POW_MAX": env_int("SIGNUP_POW_MAX", 100_000, minimum=1),
    # Behind our own reverse proxy: take the visitor's IP (consent records,
    # the per-IP limit) from the last X-Forwarded-For entry, which it adds.
    "TRUST_X_FORWARDED_FOR": env_bool("TRUST_X_FORWARDED_FOR", False),
    "SIGNUP_RATE_PER_IP": env_int("SIGNUP_RATE_PER_IP", 10, minimum=1),
    "SIGNUP_RATE_WINDOW_SECONDS": env_int("SIGNUP_RATE_WINDOW_SECONDS", 600, minimum=1),
    # Uploaded import files wait here for a worker: with workers on several
    # machines, a directory they all mount.
    "IMPORT_DIR": Path(env_str("IMPORT_DIR", str(VAR_DIR / "imports"))),
    "IMPORT_MAX_MB": env_int("IMPORT_MAX_MB", 2048, minimum=1),
    # Rows per import transaction (reading and applying), and how long an
    # import's run may go without a commit before another worker takes it over.
    "IMPORT_BATCH_ROWS": env_int("IMPORT_BATCH_ROWS", 50_000, minimum=1),
    "IMPORT_LEASE_SECONDS": env_int("IMPORT_LEASE_SECONDS", 60, minimum=2),
    # Subscribers a bulk action changes per transaction (it shares the lease above).
    "BULK_BATCH_SIZE": env_int("BULK_BATCH_SIZE", 1000, minimum=1),
    # Background exports are written here and kept this many days.
    "EXPORT_DIR": Path(env_str("EXPORT_DIR", str(VAR_DIR / "exports"))),
    "EXPORT_KEEP_DAYS": env_int("EXPORT_KEEP_DAYS", 7, minimum=1),
    # Media uploads: the largest image accepted, and the public address of the
    # S3 bucket's files (a CDN or the bucket's website; empty: the storage's URL).
    "MEDIA_MAX_UPLOAD_MB": env_int("MEDIA_MAX_UPLOAD_MB", 5, minimum=1),
    "MEDIA_PUBLIC_URL": env_str("MEDIA_S3_PUBLIC_URL"),
    # How long a process trusts a checked API token (a revoked one, or a
    # deactivated user's, may keep working this long; 0: check every call).
    "API_TOKEN_CACHE_SECONDS": env_float("API_TOKEN_CACHE_SECONDS", 10.0),
    # Transactional mail (API and SMTP relay). The channel it goes through
    # unless a send names one (by name; empty: the system mail channel).
    "TX_CHANNEL": env_str("TX_CHANNEL"),
    # A repeated idempotency key within this window returns the first answer.
    "TX_IDEMPOTENCY_HOURS": env_int("TX_IDEMPOTENCY_HOURS", 24, minimum=1),
    # While a campaign sends through a channel, transactional mail may take
    # up to this share of its rate (and all of it when no campaign sends);
    # bulk keeps the rest. See docs/decisions.md, "Transactional priority".
    "TX_RATE_SHARE": env_float("TX_RATE_SHARE", 0.2),
    # Connections of each channel bulk never takes (when it has two or more).
    "TX_RESERVED_CONNECTIONS": env_int("TX_RESERVED_CONNECTIONS", 1, minimum=0),
    "TX_MAX_RECIPIENTS": env_int("TX_MAX_RECIPIENTS", 50, minimum=1),
    "TX_MAX_MESSAGE_BYTES": env_int("TX_MAX_MESSAGE_BYTES", 10 * 1024 * 1024, minimum=1024),
    # Messages one worker claims at a time.
    "TX_BATCH": env_int("TX_BATCH", 50, minimum=1),
    # Sent, bounced and failed messages (and their content) are kept this long.
    "TX_RETENTION_DAYS": env_int("TX_RETENTION_DAYS", 90, minimum=1),
    # The relay keeps a sender's own DKIM signatures beside ours, or drops them.
    "TX_REPLACE_DKIM": env_bool("TX_REPLACE_DKIM", False),
    # The SMTP relay (manage.py smtp_relay): where it listens and the
    # certificate it offers (STARTTLS, or implicit TLS with --implicit-tls).
    "SMTP_RELAY_HOST": env_str("SMTP_RELAY_HOST", "127.0.0.1"),
    "SMTP_RELAY_PORT": env_int("SMTP_RELAY_PORT", 587, minimum=1),
    "SMTP_RELAY_TLS_CERT": env_str("SMTP_RELAY_TLS_CERT"),
    "SMTP_RELAY_TLS_KEY": env_str("SMTP_RELAY_TLS_KEY"),
    # Relay processes sharing its port; each uses about one core.
    "SMTP_RELAY_PROCESSES": env_int("SMTP_RELAY_PROCESSES", 1, minimum=1),
    # Wrong passwords allowed per client IP per 10 minutes before AUTH is refused.
    "SMTP_RELAY_AUTH_FAILURES": env_int("SMTP_RELAY_AUTH_FAILURES", 10, minimum=1),
}

# Default SMTP server created on first start (see `manage.py bootstrap`).
DEFAULT_SMTP: dict[str, Any] = {
    "HOST": env_str("SMTP_HOST"),
    "PORT": env_int("SMTP_PORT", 587, minimum=1),
    "SECURITY": env_str("SMTP_SECURITY", "starttls"),
    "USERNAME": env_str("SMTP_USERNAME"),
    "PASSWORD": env_str("SMTP_PASSWORD"),
    "MAX_CONNECTIONS": env_int("SMTP_MAX_CONNECTIONS", 4, minimum=1),
    "MESSAGES_PER_SECOND": env_float("SMTP_MESSAGES_PER_SECOND", 50.0),
}

# ESP webhooks (django-anymail). Every webhook call must carry the basic-auth
# credentials "user:password" of ANYMAIL_WEBHOOK_SECRET; without one configured
# a random secret is used, so webhooks refuse everything rather than accept
# unauthenticated events. ESPs that also sign their calls get their signing key
# from ANYMAIL_<SETTING> (e.g. ANYMAIL_MAILGUN_WEBHOOK_SIGNING_KEY).
_ESP_WEBHOOK_SETTINGS = (
    "MAILGUN_WEBHOOK_SIGNING_KEY",
    "MAILERSEND_SIGNING_SECRET",
    "MANDRILL_WEBHOOK_KEY",
    "MANDRILL_WEBHOOK_URL",
    "POSTAL_WEBHOOK_KEY",
    "RESEND_SIGNING_SECRET",
    "MAILTRAP_WEBHOOK_SIGNING_SECRET",
    "UNISENDER_GO_API_KEY",
)
ANYMAIL: dict[str, Any] = {
    "WEBHOOK_SECRET": env_str("ANYMAIL_WEBHOOK_SECRET")
    or f"unset:{base64.urlsafe_b64encode(os.urandom(24)).decode()}",
    **{
        name: env_str(f"ANYMAIL_{name}")
        for name in _ESP_WEBHOOK_SETTINGS
        if env_str(f"ANYMAIL_{name}")
    },
}

# Bearer token Prometheus presents to /metrics (staff sessions work too).
METRICS_TOKEN = env_str("METRICS_TOKEN")

DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", f"Postino <postino@{_mail_domain(BASE_HOST)}>")
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "filters": {"routine_tasks": {"()": "postino.logfilters.RoutineTasksAtDebug"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Every tick and heartbeat, scheduled, received and finished: DEBUG, not INFO.
        "celery.beat": {"filters": ["routine_tasks"]},
        "celery.worker.strategy": {"filters": ["routine_tasks"]},
        "celery.app.trace": {"filters": ["routine_tasks"]},
    },
}
