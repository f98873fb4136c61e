"""Read settings from the environment, refusing values that would silently mean something else."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name, *, default):
    """Return the boolean in `name`; anything but a clear yes or no is a configuration error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name, *, default):
    """Return the integer in `name`, or `default` when it is unset."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.") from None


def env_list(name, *, default=()):
    """Return the comma-separated list in `name`, without blanks."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_str(name, *, default=""):
    return os.environ.get(name, default)


SECRET_KEY_MISSING = "Set DJANGO_SECRET_KEY in the environment: at least 50 random characters (see .env.example)."


def secret_key(*, debug):
    """Return DJANGO_SECRET_KEY; in debug mode a development key stands in, otherwise "" when it is unset.

    An empty key lets commands that sign nothing (check, makemigrations, migrate) run in a bare shell;
    the server refuses to start without one (`require_secret_key`, called by config/wsgi.py) and
    `check --deploy` reports it as an error.
    """
    return os.environ.get("DJANGO_SECRET_KEY", "") or ("dev-only-key-not-for-production" if debug else "")


def require_secret_key(settings):
    """Refuse to serve without a real secret key: sessions, CSRF tokens and password resets depend on it."""
    if not settings.DEBUG and not os.environ.get("DJANGO_SECRET_KEY"):
        raise ImproperlyConfigured(SECRET_KEY_MISSING)
