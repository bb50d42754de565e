# Postino: one image for every process (web, worker, beat, migrate).
# Build: docker build -t postino .   Run: see docker-compose.yml and README.md.
FROM python:3.11-slim

# The code runs from /app, where templates/ and static/ live beside the
# packages; PYTHONPATH makes that copy win over the one pip installs.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    POSTINO_VAR_DIR=/var/lib/postino

WORKDIR /app
COPY . /app

# Static files are built into the image; settings need some key to load.
RUN pip install . \
    && useradd --system --uid 10001 --home-dir /var/lib/postino --shell /usr/sbin/nologin postino \
    && mkdir -p /var/lib/postino \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && chown -R postino:postino /var/lib/postino

USER postino
EXPOSE 8000
# gunicorn reads WEB_CONCURRENCY for its number of worker processes.
CMD ["gunicorn", "postino.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
