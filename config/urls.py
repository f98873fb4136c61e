from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.views import healthz

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    # National readers (FHI, Helsedirektoratet) log in here to see numbers for authorities only.
    path("logg-inn/", auth_views.LoginView.as_view(), name="login"),
    path("logg-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("registry.urls")),
    path("konto/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
]
