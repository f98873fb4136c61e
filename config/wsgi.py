import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# gunicorn and runserver both load this module: neither may serve without a secret key.
from django.conf import settings  # noqa: E402
from django.urls import get_resolver  # noqa: E402

from config.env import require_secret_key  # noqa: E402

require_secret_key(settings)

# What is loaded at start lives as long as the process. Frozen, it is left out of the garbage
# collector's full collections, which otherwise walk every startup object (the phone number metadata,
# the URLconf, the views) and stall the request that triggers one by 60 ms (make bench-search).
get_resolver().url_patterns  # noqa: B018 -- loads the URLconf and every view module now, to be frozen with the rest
gc.freeze()
