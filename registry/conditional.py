"""ETag and Last-Modified for the national list, so that a browser or client polling it gets 304s.

The validators change with everything the list's caches are keyed on (registry.versioning.cache_variant:
the data state, the day, the language, whether the reader sees numbers for authorities only, the
login-only setting), and with the user and CSRF cookie (the page names who is logged in and carries a
token for its forms).
"""

import datetime
import hashlib
from functools import wraps

from django.conf import settings
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import condition

from registry.access import may_view_list, sees_restricted_numbers
from registry.versioning import cache_variant, current_data_state


def list_state(request):
    """The data state (registry.versioning) for this request: read once, at its start.

    The page cache reads it before the view runs (registry.page_cache.page_key), so that a page is kept
    under the state its data was read after.
    """
    if not hasattr(request, "_registry_state"):
        request._registry_state = current_data_state()
    return request._registry_state


def list_variant(request):
    """The cache variant (registry.versioning.cache_variant) of this request's reader, once per request."""
    if not hasattr(request, "_registry_variant"):
        request._registry_variant = cache_variant(
            state=list_state(request), language=get_language(), restricted=sees_restricted_numbers(request.user)
        )
    return request._registry_variant


def list_last_modified(request, *args, **kwargs):
    """The later of the last data change and the start of today (the day decides what is current)."""
    if not may_view_list(request.user):
        return None
    start_of_today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
    changed = list_state(request).changed_at
    return max(changed, start_of_today) if changed else start_of_today


def list_etag(request, *args, **kwargs):
    if not may_view_list(request.user):
        return None
    key = "|".join(
        [
            list_variant(request),
            # The header names the logged-in user, and the forms carry a CSRF token tied to the cookie.
            str(request.user.pk or ""),
            request.COOKIES.get(settings.CSRF_COOKIE_NAME, ""),
        ]
    )
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def conditional_list(view):
    """Decorate a list view: answer conditional GETs with 304, and say which request headers the answer varies on."""
    conditional = condition(etag_func=list_etag, last_modified_func=list_last_modified)(view)

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        response = conditional(request, *args, **kwargs)
        patch_vary_headers(response, ("Cookie", "Accept-Language"))
        return response

    return wrapped
