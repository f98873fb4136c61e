"""The project's own promises: migrations match the models, and the settings refuse unsafe values."""

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_models_and_migrations_agree():
    out = io.StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


def settings_error(**env):
    """Import the settings in a fresh interpreter with `env`; return what it printed to stderr."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    result = subprocess.run(
        [sys.executable, "-c", "import config.settings"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    return result.returncode, result.stderr


def test_settings_require_a_secret_key_unless_debug():
    code, stderr = settings_error(DJANGO_DEBUG="0")
    assert code != 0 and "Set DJANGO_SECRET_KEY" in stderr
    assert settings_error(DJANGO_DEBUG="1")[0] == 0


def test_settings_refuse_an_unclear_boolean():
    code, stderr = settings_error(DJANGO_DEBUG="maybe")
    assert code != 0 and "DJANGO_DEBUG must be one of" in stderr


def test_production_defaults_are_safe():
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "nb" and settings.TIME_ZONE == "Europe/Oslo" and settings.USE_TZ
    assert "*" not in settings.ALLOWED_HOSTS
