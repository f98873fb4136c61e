"""Failed-login throttling (django-axes): which address a request comes from, the limits, and the lockout page.

Two limits, both counted in the database so that every app server sees the same:

- per account and address: AXES_FAILURE_LIMIT wrong passwords lock that pair for AXES_COOLOFF_TIME
  (axes' own rule). A colleague behind the same address, or the owner from elsewhere, still gets in.
- per account, from all addresses together: LOGIN_ACCOUNT_FAILURE_LIMIT wrong passwords within
  LOGIN_ACCOUNT_FAILURE_WINDOW pause every login to the account until the oldest of them is older
  than the window. This stops guessing from many addresses (a proxy that reports rotating client
  addresses, or the many addresses of an IPv6 network). The price: someone who guesses wrong that
  often can keep the owner out for that long; `manage.py unlock_login USERNAME` lifts it at once.

IPv6 clients are counted by their /64 network: one home or office connection holds billions of
addresses, and counting each on its own would let one machine guess without limit.
"""

import datetime
import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from registry.addresses import client_ip, counted_address  # noqa: F401  (AXES_CLIENT_IP_CALLABLE names client_ip here)


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


def _recent_failures(username, now=None):
    """Return the account's failed logins within the window, oldest first (times only)."""
    since = (now or timezone.now()) - settings.LOGIN_ACCOUNT_FAILURE_WINDOW
    return list(
        AccessFailureLog.objects.filter(username=username, attempt_time__gte=since)
        .order_by("attempt_time")
        .values_list("attempt_time", flat=True)
    )


def account_paused_until(username, now=None):
    """Return when logins to `username` open again after too many failures from anywhere, or None if open."""
    if not username:
        return None
    failures = _recent_failures(username, now)
    if len(failures) < settings.LOGIN_ACCOUNT_FAILURE_LIMIT:
        return None
    # Open again once fewer than the limit remain within the window.
    return failures[len(failures) - settings.LOGIN_ACCOUNT_FAILURE_LIMIT] + settings.LOGIN_ACCOUNT_FAILURE_WINDOW


def unlock(username):
    """Lift every lockout of `username` (both limits); return the number of records deleted."""
    attempts, _ = AccessAttempt.objects.filter(username=username).delete()
    failures, _ = AccessFailureLog.objects.filter(username=username).delete()
    return attempts + failures


class LoginFailureHandler(AxesDatabaseHandler):
    """axes' database handler with the per-account limit on top of its per-(account, address) one.

    Needs AXES_ENABLE_ACCESS_FAILURE_LOG: the failure log (one row per failure, with its time) is
    what the per-account limit counts. Failures while locked out are not logged, so the pause ends.
    """

    def is_locked(self, request, credentials=None):
        if super().is_locked(request, credentials):
            return True
        return account_paused_until(get_client_username(request, credentials)) is not None

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or getattr(request, "axes_locked_out", False):
            return
        username = get_client_username(request, credentials)
        if account_paused_until(username) is not None:
            # This failure reached the limit: answer it with the lockout page already.
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets: what happened, for how long, and what to do."""
    paused_until = account_paused_until(get_client_username(request, credentials))
    if paused_until is not None:
        seconds = (paused_until - timezone.now()).total_seconds()
        context = {
            "account_paused": True,
            "minutes": max(1, math.ceil(seconds / 60)),
            "window_minutes": int(settings.LOGIN_ACCOUNT_FAILURE_WINDOW / datetime.timedelta(minutes=1)),
        }
    else:
        context = {"account_paused": False, "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}
    context["failure_limit"] = settings.AXES_FAILURE_LIMIT
    return render(request, settings.AXES_LOCKOUT_TEMPLATE, context, status=429)
