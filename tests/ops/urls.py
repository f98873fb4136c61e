"""The project's URLs plus views that fail on purpose, for the error page tests."""

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from config.urls import urlpatterns as project_urlpatterns


def broken(request):
    raise RuntimeError("secret detail: password=hunter2 in /srv/registry/settings.py")


def forbidden(request):
    raise PermissionDenied


def suspicious(request):
    raise SuspiciousOperation("tampered input")


urlpatterns = [
    *project_urlpatterns,
    path("test-broken/", broken),
    path("test-forbidden/", forbidden),
    path("test-suspicious/", suspicious),
]
