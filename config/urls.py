from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.i18n import set_language

from config.views import healthz

# An address nobody serves: the API answers in JSON, the site with its own page.
handler404 = "config.views.not_found"

urlpatterns = [
    # Choosing a language changes nothing but a cookie, so the form needs no CSRF token: without one the
    # pages of anonymous visitors are the same for everybody and can be served from the shared cache.
    path("i18n/setlang/", csrf_exempt(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # National readers (FHI, Helsedirektoratet) log in here to see numbers for authorities only.
    path("logg-inn/", auth_views.LoginView.as_view(), name="login"),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("registry.urls")),
    path("konto/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
]
