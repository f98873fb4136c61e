"""ETag and Last-Modified for the national list, so that a browser or client polling it gets 304s.

The validators change when the data changes (any saved or deleted municipality, physician,
appointment or phone leaves a history row), when the day changes (appointments start and end at
midnight), with the language, with whether the reader sees numbers for authorities only, and with
the user and CSRF cookie (the page names who is logged in and carries a token for its forms).
"""

import datetime
import functools
import hashlib
from functools import wraps

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import get_language
from django.views.decorators.http import condition

from accounts.access import may_view_list, sees_restricted_numbers
from registry.models import Appointment, Municipality, Phone, Physician

TRACKED = [Municipality, Physician, Appointment, Phone]


@functools.cache
def data_changed_sql():
    # Built once: reaching the history model through `model.history` builds a manager each time (1 ms).
    tables = [model.history.model._meta.db_table for model in TRACKED]
    sql = " UNION ALL ".join(f"SELECT MAX(history_date) AS changed FROM {table}" for table in tables)
    return f"SELECT MAX(changed) FROM ({sql}) AS changes"


def data_changed_at():
    """Return when the list's data last changed (the newest history row), or None. One query."""
    with connection.cursor() as cursor:
        cursor.execute(data_changed_sql())
        (changed,) = cursor.fetchone()
    if isinstance(changed, str):  # SQLite returns the text it stored
        changed = datetime.datetime.fromisoformat(changed)
    if changed is not None and timezone.is_naive(changed):
        changed = timezone.make_aware(changed, datetime.UTC)
    return changed


def list_last_modified(request, *args, **kwargs):
    """The later of the last data change and the start of today (the day decides what is current)."""
    if not may_view_list(request.user):
        return None
    if not hasattr(request, "_registry_changed_at"):
        start_of_today = timezone.make_aware(datetime.datetime.combine(timezone.localdate(), datetime.time.min))
        changed = data_changed_at()
        request._registry_changed_at = max(changed, start_of_today) if changed else start_of_today
    return request._registry_changed_at


def list_etag(request, *args, **kwargs):
    changed = list_last_modified(request)
    if changed is None:
        return None
    key = "|".join(
        [
            changed.isoformat(),
            timezone.localdate().isoformat(),
            get_language() or "",
            "restricted" if sees_restricted_numbers(request.user) else "public",
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
