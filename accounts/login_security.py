"""Failed-login throttling (django-axes): which address a request comes from, and the lockout page."""

import ipaddress

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.shortcuts import render


class LockoutBackend(AxesStandaloneBackend):
    """Refuses a login while its account and address are locked out; authenticates nobody itself.

    Only logins that come with a request are counted and checked: the login pages always pass one.
    `authenticate()` without a request (the shell, the test client's `login()`) goes on to the next
    backend instead of failing, as axes' own backend would.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _valid_address(value):
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request):
    """Return the address a request comes from.

    X-Forwarded-For is anyone's to write, so it counts only when DJANGO_TRUSTED_PROXY_COUNT says how
    many proxies of ours stand in front: each appends the address it received from, so the client is
    that many entries from the right. Otherwise, and when the header is short or malformed, the
    address of the connection itself.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= count:
            return _valid_address(forwarded[-count]) or remote
    return remote


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets: what happened, for how long, and what to do."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT}
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
