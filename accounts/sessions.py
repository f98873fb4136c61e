"""Sessions end after inactivity without a database write on every request.

SESSION_COOKIE_AGE is the idle time. Rather than SESSION_SAVE_EVERY_REQUEST (an UPDATE per page view,
also for the national list FHI may load many times a minute), an active session is saved again at
most once per SESSION_TOUCH_SECONDS, which moves its expiry forward; the idle limit is thus exact to
within that interval.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils import timezone

TOUCHED_KEY = "_touched"


def _now():
    return int(timezone.now().timestamp())


class TouchSessionMiddleware:
    """Place after SessionMiddleware: it marks the session modified before SessionMiddleware saves it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = _now()
            if now - session.get(TOUCHED_KEY, 0) >= settings.SESSION_TOUCH_SECONDS:
                session[TOUCHED_KEY] = now
        return response


@receiver(user_logged_in, dispatch_uid="accounts_session_touched_at_login")
def touch_at_login(sender, request, user, **kwargs):
    # Logging in saves the session anyway; start the interval there.
    if request is not None and hasattr(request, "session"):
        request.session[TOUCHED_KEY] = _now()
