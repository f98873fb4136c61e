"""System checks of the project's own settings."""

import os

from django.conf import settings
from django.core.checks import Error, Tags, register

from config.env import SECRET_KEY_MISSING


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    """`check --deploy` fails, naming the variable, when production settings have no secret key."""
    if not settings.DEBUG and not os.environ.get("DJANGO_SECRET_KEY"):
        return [Error(SECRET_KEY_MISSING, id="config.E001")]
    return []
