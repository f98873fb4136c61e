"""The project's own promises: migrations match the models, and the settings refuse unsafe values."""

import io
import os
import re
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


def run_python(*args, **env):
    """Run Python in a fresh interpreter at the project root with only `env` as DJANGO_ settings."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REGISTRY_"))}
    environment.update(env)
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def settings_error(**env):
    """Import the settings in a fresh interpreter with `env`; return (exit code, output)."""
    return run_python("-c", "import config.settings", **env)


def test_the_server_refuses_to_start_without_a_secret_key_unless_debug():
    code, output = run_python("-c", "import config.wsgi")
    assert code != 0 and "Set DJANGO_SECRET_KEY" in output
    assert run_python("-c", "import config.wsgi", DJANGO_DEBUG="1")[0] == 0
    assert run_python("-c", "import config.wsgi", DJANGO_SECRET_KEY="k" * 50)[0] == 0


def test_deploy_check_fails_without_a_secret_key_naming_the_variable():
    code, output = run_python("manage.py", "check", "--deploy", DJANGO_ALLOWED_HOSTS="kommuneoverleger.example.no")
    assert code != 0 and "config.E001" in output and "Set DJANGO_SECRET_KEY" in output


def test_everyday_commands_run_in_a_bare_shell():
    # Commands that sign nothing need no secret key, so a developer (or a hook) can run them as they are.
    code, output = run_python("manage.py", "check")
    assert code == 0, output
    code, output = run_python("manage.py", "makemigrations", "--check", "--dry-run")
    assert code == 0 and "No changes detected" in output, output


def test_settings_refuse_an_unclear_boolean():
    code, stderr = settings_error(DJANGO_DEBUG="maybe")
    assert code != 0 and "DJANGO_DEBUG must be one of" in stderr


def test_production_defaults_are_safe():
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "nb" and settings.TIME_ZONE == "Europe/Oslo" and settings.USE_TZ
    assert "*" not in settings.ALLOWED_HOSTS


def test_every_test_file_security_md_names_exists():
    # SECURITY.md names each file by its full path the first time, then by its name within that folder.
    text = (ROOT / "SECURITY.md").read_text()
    named, folder = [], None
    for name in re.findall(r"`((?:tests/[\w/]+/)?test_\w+\.py)`", text):
        if "/" in name:
            folder, name = name.rsplit("/", 1)
        named.append(ROOT / folder / name)
    assert len(named) > 15 and [path for path in named if not path.exists()] == []


def test_the_registry_imports_nothing_from_accounts_outside_its_admin():
    """Dependencies point towards the registry: accounts installs its access rule (registry.access)."""
    import ast

    root = ROOT / "registry"
    offenders = []
    for path in root.rglob("*.py"):
        if path.name.startswith("admin") or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            offenders += [f"{path.relative_to(root)}: {name}" for name in names if name.split(".")[0] == "accounts"]
    assert offenders == []
