"""Report an error: no login, no captcha; a trap field, a minimum fill time and a throttle per address."""

import time

import pytest
from django.core import signing
from django.test import Client

from registry.forms import STARTED_SALT
from registry.models import ErrorReport, QueueStatus
from registry.upkeep_views import REPORTS_PER_ADDRESS

pytestmark = pytest.mark.django_db
URL = "/kommune/5001/meld-feil/"


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "nb"})


def started(seconds_ago=10):
    return signing.dumps(int(time.time()) - seconds_ago, salt=STARTED_SALT)


def report(client, **changes):
    data = {"message": "Vakttelefonen svarer ikke.", "reporter_email": "", "website": "", "started": started()}
    data.update(changes)
    return client.post(URL, data, REMOTE_ADDR=changes.pop("address", "192.0.2.10"))


def test_every_municipality_page_links_to_its_report_form_and_stays_the_same_for_everyone(client):
    page = client.get("/kommune/5001/").content.decode()
    assert 'href="/kommune/5001/meld-feil/"' in page and "Meld fra om feil" in page
    assert "csrfmiddlewaretoken" not in page, "the shared page carries no token; the form has a page of its own"


def test_the_form_page_is_personal_and_never_cached(client):
    response = client.get(URL)
    assert response.status_code == 200 and "csrfmiddlewaretoken" in response.content.decode()
    assert "no-store" in response["Cache-Control"] and "Statsforvalteren i Trøndelag" in response.content.decode()


def test_a_report_goes_to_the_office_with_the_optional_address(client):
    response = report(client, reporter_email="meg@example.no")
    assert response.status_code == 200 and "meldingen er sendt" in response.content.decode()
    stored = ErrorReport.objects.get()
    assert (stored.municipality.number, stored.message, stored.reporter_email, stored.status) == (
        "5001",
        "Vakttelefonen svarer ikke.",
        "meg@example.no",
        QueueStatus.OPEN,
    )


def test_an_empty_report_shows_the_form_again_with_the_error(client):
    response = report(client, message="")
    assert response.status_code == 400 and "Dette feltet er påkrevd" in response.content.decode()
    assert not ErrorReport.objects.exists()


def test_a_bot_that_fills_the_trap_field_is_refused(client):
    response = report(client, website="https://spam.example")
    assert response.status_code == 400 and "La det siste feltet stå tomt" in response.content.decode()
    assert not ErrorReport.objects.exists()


def test_a_form_sent_within_seconds_is_refused(client):
    response = report(client, started=started(seconds_ago=0))
    assert response.status_code == 400 and "bare sekunder" in response.content.decode()
    assert not ErrorReport.objects.exists()


@pytest.mark.parametrize("value", ["", "forged", signing.dumps(0, salt="other")])
def test_a_missing_or_forged_start_time_is_refused_without_a_server_error(client, value):
    response = report(client, started=value)
    assert response.status_code == 400 and "Last inn siden på nytt" in response.content.decode()


def test_a_flood_from_one_address_is_throttled_with_a_clear_message(client):
    for _ in range(REPORTS_PER_ADDRESS):
        assert report(client).status_code == 200
    response = report(client)
    assert response.status_code == 429 and "For mange meldinger fra adressen din" in response.content.decode()
    assert ErrorReport.objects.count() == REPORTS_PER_ADDRESS
    assert report(client, address="192.0.2.99").status_code == 200, "another address is not held back"


def test_behind_a_trusted_proxy_the_clients_address_is_counted(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(REPORTS_PER_ADDRESS):
        client.post(URL, {"message": "x", "started": started()}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    response = client.post(URL, {"message": "x", "started": started()}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert response.status_code == 429
    other = client.post(URL, {"message": "x", "started": started()}, HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 200


def test_an_unknown_municipality_is_not_found(client):
    assert client.get("/kommune/9999/meld-feil/").status_code == 404


def test_a_report_written_outside_the_write_path_is_refused():
    from django.db import transaction

    from tests.factories import municipality

    with pytest.raises(RuntimeError, match="outside registry.services"), transaction.atomic():
        ErrorReport(municipality=municipality("5001"), message="Sidedør").save()
