"""The spreadsheet import page shows what went wrong, never a Python traceback."""

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory

from registry.models import Physician
from tests.factories import UserFactory

TRACEBACK = 'Traceback (most recent call last):\n  File "/srv/registry/imports/resources.py", line 42'


class _Error:
    error = "Kolonnen «kommunenummer» mangler."
    traceback = TRACEBACK


class _Result:
    base_errors = [_Error()]

    def has_errors(self):
        return True

    def has_validation_errors(self):
        return False

    def row_errors(self):
        return [(3, [_Error()])]


@pytest.mark.django_db
def test_import_errors_show_the_message_without_the_traceback():
    request = RequestFactory().get("/admin/registry/physician/import/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    context = {"opts": Physician._meta, "result": _Result(), "import_error_display": ("message", "traceback")}

    page = render_to_string("admin/import_export/import.html", context, request=request)

    assert "Kolonnen «kommunenummer» mangler." in page
    assert "Traceback" not in page and "resources.py" not in page
