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


def env_required(name, *, unless_debug=None, debug=False):
    """Return `name`; in debug mode fall back to `unless_debug`, otherwise refuse to start without it."""
    value = os.environ.get(name, "")
    if value:
        return value
    if debug and unless_debug is not None:
        return unless_debug
    raise ImproperlyConfigured(f"Set {name} in the environment (see .env.example).")
