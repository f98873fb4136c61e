"""Production settings: Django's deployment checks pass, and every browser protection is really sent."""

import json
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parent.parent.parent
PRODUCTION_HOST = "kommuneoverleger.example.no"


def production_env(**extra):
    """The environment of a production server: only what .env.example says must be set."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REGISTRY_", "REDIS_"))}
    alphabet = string.ascii_letters + string.digits + "!#%&()*+-./:;<=>?@[]^_{|}~"
    environment.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="".join(secrets.choice(alphabet) for _ in range(50)),
        DJANGO_ALLOWED_HOSTS=PRODUCTION_HOST,
        REGISTRY_SITE_URL=f"https://{PRODUCTION_HOST}",
    )
    environment.update(extra)
    return environment


def production_settings(*names, **env):
    """Return the named settings as a fresh production process sees them."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**production_env(**env), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_deployment_checks_pass_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deployment_checks_ask_for_the_sites_address_of_the_confirmation_links():
    environment = production_env()
    del environment["REGISTRY_SITE_URL"]
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "REGISTRY_SITE_URL" in result.stdout + result.stderr


def test_production_defaults_are_https_only():
    values = production_settings(
        "DEBUG",
        "SECURE_SSL_REDIRECT",
        "SECURE_HSTS_SECONDS",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_PROXY_SSL_HEADER",
        "REGISTRY_REQUIRE_2FA",
        "STORAGES",
    )
    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] and values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["REGISTRY_REQUIRE_2FA"] is True
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == "whitenoise.storage.CompressedManifestStaticFilesStorage"
    # Trusting X-Forwarded-Proto without a proxy in front would let any client claim HTTPS.
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_the_proxy_https_header_is_trusted_only_when_configured():
    values = production_settings("SECURE_PROXY_SSL_HEADER", DJANGO_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_the_cache_is_shared_through_redis_when_redis_url_is_set():
    local = production_settings("CACHES")["CACHES"]["default"]
    shared = production_settings("CACHES", REDIS_URL="redis://127.0.0.1:6379/1")["CACHES"]["default"]
    assert local["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shared == {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:6379/1"}


def test_debug_switches_the_development_conveniences_on():
    values = production_settings(
        "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "SECURE_HSTS_SECONDS", DJANGO_DEBUG="1"
    )
    assert values == {"SECURE_SSL_REDIRECT": False, "SESSION_COOKIE_SECURE": False, "SECURE_HSTS_SECONDS": 0}


@pytest.mark.django_db
def test_every_page_carries_the_browser_protections(client):
    response = client.get(reverse("admin:login"), secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["frame-ancestors"] == "'none'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_cookies_are_secure_httponly_and_same_site(client, superuser):
    login = client.get(reverse("admin:login"))
    csrf = login.cookies["csrftoken"]
    response = client.post(
        reverse("admin:login"),
        {"username": "superuser", "password": "correct horse battery staple", "csrfmiddlewaretoken": csrf.value},
    )
    assert response.status_code == 302
    session = response.cookies["sessionid"]
    for cookie in (csrf, session):
        assert cookie["secure"] and cookie["httponly"] and cookie["samesite"] == "Lax"


def test_admin_templates_need_no_inline_script_or_style():
    # The CSP forbids inline code; our own templates must not rely on it either.
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        assert "<script>" not in text and "style=" not in text and "<style" not in text, template


def test_postgresql_connections_run_without_jit_compilation():
    """The list's queries are many small subqueries whose estimated cost passes jit_above_cost: compiling
    them cost 250 ms of a 270 ms query (bench-search). The embedded SQLite database has no such option."""
    on_postgres = production_settings("DATABASES", DATABASE_URL="postgres://registry@db.example.no:5432/registry")
    assert on_postgres["DATABASES"]["default"]["OPTIONS"]["options"] == "-c jit=off"
    given = production_settings(
        "DATABASES", DATABASE_URL="postgres://registry@db.example.no/registry?options=-c%20statement_timeout%3D5000"
    )
    assert given["DATABASES"]["default"]["OPTIONS"]["options"] == "-c statement_timeout=5000 -c jit=off"
    on_sqlite = production_settings("DATABASES", DATABASE_URL="sqlite:////tmp/registry.sqlite3")
    assert "options" not in on_sqlite["DATABASES"]["default"].get("OPTIONS", {})
