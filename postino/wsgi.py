import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "postino.settings")
# Django first: it loads the settings and the apps the fast path uses.
django_application = get_wsgi_application()

from api.fast_send import fast_send  # noqa: E402
from tracking.wsgi import fast_path  # noqa: E402

application = fast_path(fast_send(django_application))
