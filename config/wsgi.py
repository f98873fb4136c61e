import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn and runserver both load this module: neither may serve without a secret key.
from django.conf import settings  # noqa: E402

from config.env import require_secret_key  # noqa: E402

require_secret_key(settings)
