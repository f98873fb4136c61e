"""Settings for the registry. Every value that differs between environments comes from the environment.

Defaults are safe for production; `make run` and the tests switch development conveniences on in
their own environment. See .env.example for every variable.
"""

import datetime
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import env_bool, env_int, env_list, env_str, secret_key

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = BASE_DIR / "data"

DEBUG = env_bool("DJANGO_DEBUG", default=False)
SECRET_KEY = secret_key(debug=DEBUG)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])

INSTALLED_APPS = [
    # Django's admin with the registry's own site (registry.admin_site.RegistryAdminSite).
    "registry.apps.RegistryAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "guardian",
    "import_export",
    "phonenumber_field",
    "simple_history",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "registry",
    "accounts",
    "imports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves the collected, hashed static files before any other work is done for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "config.middleware.RejectNullCharactersMiddleware",
    "config.middleware.RejectRegexLookupsMiddleware",
    # Anonymous visitors get the list's pages whole from the shared cache, before sessions and auth.
    "registry.page_cache.SharedPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Keeps an active session alive (idle expiry) with at most one write a minute.
    "accounts.sessions.TouchSessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    # Editors must set up and pass the second factor before anything else (REGISTRY_REQUIRE_2FA).
    "accounts.two_factor.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Records the logged-in user on every history entry the request creates.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it turns a lockout raised anywhere during login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded SQLite file lives in the git-ignored data/ folder so a newcomer needs no server.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'registry.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: the list's and the ownership rule's queries are many small correlated subqueries
    # whose estimated cost passes jit_above_cost. Compiling took 250 ms of a 270 ms query (the coverage page
    # at 100,000 appointments, EXPLAIN ANALYZE) and 10 s of finding who keeps 20,000 physicians for an
    # editor's import (0.3 s executing). Options given in DATABASE_URL are kept.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options["options"] = " ".join(filter(None, [_options.get("options", ""), "-c jit=off"]))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    # First: refuses a login while the account and address are locked out (django-axes).
    "accounts.login_security.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "registry:list"
LOGOUT_REDIRECT_URL = "registry:list"

LANGUAGE_CODE = "nb"
LANGUAGES = [("nb", _("Norwegian Bokmål")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Europe/Oslo"
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT") or DATA_DIR / "static")
STATICFILES_DIRS = [BASE_DIR / "static"]
# Hashed, compressed names that browsers may cache forever (needs `collectstatic`). The tests turn it
# off because they render pages without collecting; in debug mode Django links the plain names anyway.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("DJANGO_STATIC_HASHED", default=True)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Spreadsheet import and export (django-import-export), set explicitly rather than left at library defaults:
# each needs its own permission (imports.import_importlog, imports.export_importlog, held by editors and
# national administrators), and every import runs in one transaction.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "import"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "export"
IMPORT_EXPORT_USE_TRANSACTIONS = True
# Each part (XML file) inside an uploaded .xlsx or .ods may unpack to at most this many megabytes: parsing
# is what costs time and memory, and a contact list needs a fraction of it (imports/sheets.py).
IMPORT_MAX_XML_PART_BYTES = env_int("REGISTRY_IMPORT_MAX_XML_PART_MB", default=20) * 1024 * 1024
if IMPORT_MAX_XML_PART_BYTES < 1:
    raise ImproperlyConfigured("REGISTRY_IMPORT_MAX_XML_PART_MB must be 1 or more.")

# Phone numbers: Norwegian unless written with a country code (border doctors have Swedish mobiles).
PHONENUMBER_DEFAULT_REGION = "NO"
PHONENUMBER_DB_FORMAT = "E164"
PHONENUMBER_DEFAULT_FORMAT = "E164"

# Guardian: no anonymous user row; the public list does not go through object permissions.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = True

EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.smtp.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", default="kommuneoverlegeregisteret@localhost")
# The SMTP server for confirmation links, outcomes and the weekly digest (ignored by the console backend
# that `make run` uses). STARTTLS (usually port 587) or implicit TLS (usually 465), not both.
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", default="localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", default=25)
EMAIL_HOST_USER = env_str("DJANGO_EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("DJANGO_EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("DJANGO_EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env_bool("DJANGO_EMAIL_USE_SSL", default=False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set DJANGO_EMAIL_USE_TLS or DJANGO_EMAIL_USE_SSL, not both.")
# Seconds to wait for the SMTP server before a send fails (and is tried again on the next run), not forever.
EMAIL_TIMEOUT = env_int("DJANGO_EMAIL_TIMEOUT", default=30)

# The address of the site as people reach it, for the links in e-mails sent from cron (no request to ask).
REGISTRY_SITE_URL = env_str("REGISTRY_SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "")
# Days a confirmation link works after it is sent (registry.upkeep).
REGISTRY_CONFIRMATION_LINK_DAYS = env_int("REGISTRY_CONFIRMATION_LINK_DAYS", default=30)
if REGISTRY_CONFIRMATION_LINK_DAYS < 1:
    raise ImproperlyConfigured(
        f"REGISTRY_CONFIRMATION_LINK_DAYS must be 1 or more; got {REGISTRY_CONFIRMATION_LINK_DAYS}."
    )

# An entry not confirmed ("bekreftet") within this many days is listed as stale (default about 6 months).
REGISTRY_STALE_AFTER_DAYS = env_int("REGISTRY_STALE_AFTER_DAYS", default=182)
if REGISTRY_STALE_AFTER_DAYS < 1:
    raise ImproperlyConfigured(f"REGISTRY_STALE_AFTER_DAYS must be 1 or more; got {REGISTRY_STALE_AFTER_DAYS}.")

# The national list is public unless a deployment must restrict it (the sector's own register is login-only).
# Numbers marked "authorities only" are never public either way (accounts.access.sees_restricted_numbers).
REGISTRY_LIST_REQUIRES_LOGIN = env_bool("REGISTRY_LIST_REQUIRES_LOGIN", default=False)

# The JSON API (registry/api): read-only, JSON only, the session login of the site, OpenAPI by drf-spectacular.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kommuneoverlegeregisteret API",
    "DESCRIPTION": "The national list of municipal chief physicians: who to call in each municipality.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["registry.api.permissions.ListAccess"],
    # One name for each choice set the API uses in several places.
    "ENUM_NAME_OVERRIDES": {"RoleEnum": "registry.models.Role", "ContactKindEnum": "registry.models.ContactKind"},
}

# Several app servers need one shared cache (for the public list's caching); REDIS_URL gives it.
REDIS_URL = env_str("REDIS_URL")


def _cache(location_name, max_entries):
    if REDIS_URL:  # one Redis for every app server; its maxmemory and eviction policy bound it
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    # One server: each process keeps its own, bounded by a number of entries.
    return {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": location_name,
        "OPTIONS": {"MAX_ENTRIES": max_entries},
    }


CACHES = {
    # Whatever else may want a cache (nothing of ours today).
    "default": _cache("default", 300),
    # Anonymous pages at an address without a query string (registry.page_cache): a bounded set, about
    # 700 addresses in two languages and two encodings, most of a few kilobytes. Apart from the searches,
    # so that made-up query strings cannot push them out.
    "pages": _cache("pages", 3000),
    # Anonymous answers to searches: anyone can make up as many as they like, so few of them.
    "searches": _cache("searches", 300),
    # The rows of the national list: 357 per language and access, a few kilobytes each.
    "rows": _cache("rows", 5000),
}

# Anonymous answers of the public list (pages, exports, API) may be kept by browsers and by a proxy or
# CDN in front for this many seconds, and served stale for as many more while they fetch them anew.
# An edit reaches everyone through a proxy within REGISTRY_PUBLIC_MAX_AGE seconds.
REGISTRY_PUBLIC_MAX_AGE = env_int("REGISTRY_PUBLIC_MAX_AGE", default=30)
REGISTRY_STALE_WHILE_REVALIDATE = env_int("REGISTRY_STALE_WHILE_REVALIDATE", default=30)
if REGISTRY_PUBLIC_MAX_AGE < 0 or REGISTRY_STALE_WHILE_REVALIDATE < 0:
    raise ImproperlyConfigured("REGISTRY_PUBLIC_MAX_AGE and REGISTRY_STALE_WHILE_REVALIDATE must be 0 or more seconds.")

# --- HTTPS and browser protections (python manage.py check --deploy) ---
# Behind a TLS-terminating proxy, name the header it sets (X-Forwarded-Proto); never trust it otherwise.
_proxy_ssl_header = env_str("DJANGO_SECURE_PROXY_SSL_HEADER").strip()
if _proxy_ssl_header:
    SECURE_PROXY_SSL_HEADER = ("HTTP_" + _proxy_ssl_header.upper().replace("-", "_"), "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
# The load balancer's health check may come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# Cookies: only over HTTPS, out of reach of scripts, not sent along on other sites' requests.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
# Logged out after this many seconds without a request; every request starts the period again.
SESSION_COOKIE_AGE = env_int("DJANGO_SESSION_IDLE_SECONDS", default=60 * 60)
# Idle expiry: an active session is saved again at most this often (accounts.sessions), not on every request.
SESSION_TOUCH_SECONDS = env_int("DJANGO_SESSION_TOUCH_SECONDS", default=60)

# Content-Security-Policy (django-csp 4): our own files only; no inline script or style, no frames.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # data: for the QR code on the two-factor setup page.
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# --- Login (accounts/login_security.py) ---
# Failed logins are counted per account and address together, so that one attacker cannot lock a
# colleague out from elsewhere; after AXES_FAILURE_LIMIT failures that pair waits AXES_COOLOFF_TIME.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env_int("DJANGO_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("DJANGO_LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_LOCKOUT_CALLABLE = "accounts.login_security.lockout_response"
# The client address (IPv6 by its /64); X-Forwarded-For counts only behind as many proxies as
# DJANGO_TRUSTED_PROXY_COUNT says.
AXES_CLIENT_IP_CALLABLE = "accounts.login_security.client_ip"
# And per account from all addresses together: this many failures within the window pause its logins
# until the oldest of them leaves the window. The handler counts axes' failure log (one row per failure).
LOGIN_ACCOUNT_FAILURE_LIMIT = env_int("DJANGO_LOGIN_ACCOUNT_FAILURE_LIMIT", default=20)
LOGIN_ACCOUNT_FAILURE_WINDOW = datetime.timedelta(minutes=env_int("DJANGO_LOGIN_ACCOUNT_WINDOW_MINUTES", default=60))
if LOGIN_ACCOUNT_FAILURE_LIMIT < 1 or LOGIN_ACCOUNT_FAILURE_WINDOW < datetime.timedelta(minutes=1):
    raise ImproperlyConfigured(
        "DJANGO_LOGIN_ACCOUNT_FAILURE_LIMIT and DJANGO_LOGIN_ACCOUNT_WINDOW_MINUTES must be 1 or more."
    )
AXES_HANDLER = "accounts.login_security.LoginFailureHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", default=0)

# Every account that can edit must pass a second factor (TOTP) before it reaches the admin.
REGISTRY_REQUIRE_2FA = env_bool("REGISTRY_REQUIRE_2FA", default=True)
OTP_TOTP_ISSUER = "Kommuneoverlegeregisteret"
# Nobody reads another account's TOTP key in the admin (its key field and QR code pages are closed):
# a lost phone means deleting the device, and its owner sets up a new one.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
