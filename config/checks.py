"""System checks of the project's own settings."""

import os

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from config.env import SECRET_KEY_MISSING


@register(Tags.security, deploy=True)
def secret_key_is_set(app_configs, **kwargs):
    """`check --deploy` fails, naming the variable, when production settings have no secret key."""
    if not settings.DEBUG and not os.environ.get("DJANGO_SECRET_KEY"):
        return [Error(SECRET_KEY_MISSING, id="config.E001")]
    return []


@register(Tags.security, deploy=True)
def site_url_is_set(app_configs, **kwargs):
    """`check --deploy` warns when the confirmation e-mails would have no address to link to."""
    if not settings.REGISTRY_SITE_URL:
        return [
            Warning(
                "Set REGISTRY_SITE_URL to the site's address (https://…): the confirmation links in e-mails start "
                "with it, and send_confirmation_requests refuses to run without it.",
                id="config.W002",
            )
        ]
    return []
