from django.contrib import admin
from django.urls import include, path

from config.views import healthz

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("konto/", include("accounts.urls")),
    path("healthz", healthz, name="healthz"),
]
