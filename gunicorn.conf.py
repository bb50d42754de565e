"""gunicorn's settings for Postino's web process, read from the environment.

gunicorn loads ``./gunicorn.conf.py`` by itself, so ``make run``, the Docker
image and ``docker-compose.yml`` all serve with these (``-c gunicorn.conf.py``
only makes it explicit).

Why threads, and a fixed number of them: Django keeps one database connection
per thread (``DATABASE_CONN_MAX_AGE``). gthread workers run requests on a pool
of ``WEB_THREADS`` long-lived threads, so a web process holds at most
``WEB_THREADS`` connections, whatever the number of clients; extra clients
queue in the listen backlog instead of opening more. The web tier's share of
PostgreSQL's ``max_connections`` is therefore ``WEB_CONCURRENCY x WEB_THREADS``
per host (docs/operations.md, "Database connections").
"""

from __future__ import annotations

from postino.env import env_int

wsgi_app = "postino.wsgi:application"
worker_class = "gthread"
# gunicorn reads WEB_CONCURRENCY too, but with a bare int(): parse it strictly.
workers = env_int("WEB_CONCURRENCY", 2, minimum=1)
threads = env_int("WEB_THREADS", 4, minimum=1)
