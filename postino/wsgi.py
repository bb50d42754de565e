import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")
# Django first: it loads the settings and the apps the fast path uses.
django_application = get_wsgi_application()

from tracking.wsgi import fast_path  # noqa: E402

application = fast_path(django_application)
