"""The health check, and error pages that help the user and never show a traceback."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


def test_health_check_answers_200_when_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.content == b"ok\n"
    assert "no-cache" in response["Cache-Control"]


def test_health_check_answers_503_when_the_database_does_not(client, monkeypatch):
    def no_database(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", no_database)
    response = client.get("/healthz")
    assert response.status_code == 503


def test_health_check_needs_no_login_and_sets_no_cookie(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and not response.cookies


@pytest.mark.urls("tests.ops.urls")
def test_a_crashing_view_gives_the_friendly_500_without_traceback():
    client = Client(raise_request_exception=False)
    response = client.get("/test-broken/")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Noe gikk galt i registeret" in body
    assert "Traceback" not in body and "hunter2" not in body and "RuntimeError" not in body


@pytest.mark.urls("tests.ops.urls")
def test_permission_denied_gives_the_norwegian_403(client):
    response = client.get("/test-forbidden/")
    assert response.status_code == 403 and "Du har ikke tilgang til denne siden" in response.content.decode()


@pytest.mark.urls("tests.ops.urls")
def test_suspicious_input_gives_the_norwegian_400_without_detail(client):
    response = client.get("/test-suspicious/")
    body = response.content.decode()
    assert response.status_code == 400 and "Forespørselen kunne ikke forstås" in body
    assert "tampered" not in body


def test_unknown_page_gives_the_norwegian_404(client):
    response = client.get("/finnes-ikke/")
    assert response.status_code == 404 and "Siden ble ikke funnet" in response.content.decode()


def test_a_form_without_csrf_token_gives_the_norwegian_403():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/admin/login/", {"username": "x", "password": "y"})
    assert response.status_code == 403 and "Skjemaet kunne ikke sendes" in response.content.decode()


def test_a_nul_character_in_the_query_string_gives_the_norwegian_400(admin_client):
    response = admin_client.get("/admin/registry/physician/?q=%00")
    assert response.status_code == 400 and "Forespørselen kunne ikke forstås" in response.content.decode()
