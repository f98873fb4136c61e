"""Report an error on a district's section and on an arrangement's page: the report names what it is about,
goes to the office(s) that keep it (an arrangement across a border: both), and nobody else's queue."""

import datetime
import time

import pytest
from django.core import mail, signing
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.services import add_editor
from registry import services
from registry.forms import STARTED_SALT
from registry.freshness import freshness_report
from registry.models import Arrangement, ArrangementKind, District, ErrorReport, Membership, QueueStatus
from tests.accounts.conftest import login
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, write

pytestmark = pytest.mark.django_db
GRUNERLOKKA = "030102"


@pytest.fixture
def client():
    return Client(headers={"Accept-Language": "nb"})


@pytest.fixture
def editor_oslo(db):
    return add_editor(username="redaktor-oslo", office_code="ostfold-buskerud-oslo-og-akershus")[0]


@pytest.fixture
def across_border():
    """An arrangement with a member in Trøndelag (Grong) and one in Vestland (Bergen): kept by both offices
    (Vestland's office writes its name in nynorsk)."""
    (arrangement,) = write(Arrangement(name="Grensesamarbeidet", kind=ArrangementKind.INTERMUNICIPAL))
    since = timezone.localdate() - datetime.timedelta(days=30)
    write(
        *[Membership(arrangement=arrangement, municipality=municipality(n), valid_from=since) for n in ("5045", "4601")]
    )
    physician = PhysicianFactory(name="Grete Grensestad")
    AppointmentFactory(physician=physician, municipality=None, arrangement=arrangement, start_date=since)
    return arrangement


def send(client, url, **changes):
    started = signing.dumps(int(time.time()) - 10, salt=STARTED_SALT)
    data = {"message": "Nummeret svarer ikke.", "reporter_email": "", "website": "", "started": started}
    data.update(changes)
    return client.post(url, data, REMOTE_ADDR="192.0.2.20")


def queue(user):
    return login(user).get(reverse("admin:registry_errorreport_changelist")).content.decode()


def decide_url(report):
    return reverse("admin:registry_errorreport_change", args=[report.pk])


def test_each_district_section_links_to_a_report_about_that_district(client):
    page = client.get("/kommune/0301/").content.decode()
    assert f'href="/bydel/{GRUNERLOKKA}/meld-feil/"' in page and "Meld fra om feil i Grünerløkka" in page
    form = client.get(f"/bydel/{GRUNERLOKKA}/meld-feil/")
    assert form.status_code == 200 and "Grünerløkka (Oslo)" in form.content.decode()
    assert "no-store" in form["Cache-Control"]


def test_a_district_report_names_the_district_and_goes_to_oslos_office_only(client, editor_oslo, editor_trondelag):
    response = send(client, f"/bydel/{GRUNERLOKKA}/meld-feil/", message="Bydelsoverlegen har sluttet.")
    assert response.status_code == 200 and "meldingen er sendt" in response.content.decode()
    report = ErrorReport.objects.get()
    assert (report.district.number, report.municipality.number, report.arrangement) == (GRUNERLOKKA, "0301", None)
    assert "Bydelsoverlegen har sluttet" in queue(editor_oslo)
    assert "Bydelsoverlegen har sluttet" not in queue(editor_trondelag)
    assert login(editor_trondelag).get(decide_url(report)).status_code == 403
    page = login(editor_oslo).get(decide_url(report)).content.decode()
    assert "Grünerløkka (Oslo)" in page and reverse("admin:registry_district_change", args=[report.district_id]) in page


def test_the_arrangement_page_links_to_its_report_form(client, across_border):
    page = client.get(f"/ordning/{across_border.pk}/").content.decode()
    assert f'href="/ordning/{across_border.pk}/meld-feil/"' in page
    form = client.get(f"/ordning/{across_border.pk}/meld-feil/").content.decode()
    # Both offices keep it, and the form says so.
    assert "Statsforvalteren i Trøndelag" in form and "Statsforvaltaren i Vestland" in form


def test_a_report_on_an_arrangement_across_a_border_reaches_both_offices_and_no_other(
    client, across_border, editor_trondelag, editor_vestland, editor_oslo
):
    send(client, f"/ordning/{across_border.pk}/meld-feil/", message="Feil vakttelefon.", reporter_email="a@example.no")
    report = ErrorReport.objects.get()
    assert (report.arrangement, report.municipality, report.district) == (across_border, None, None)
    assert "Feil vakttelefon" in queue(editor_trondelag) and "Feil vakttelefon" in queue(editor_vestland)
    assert "Feil vakttelefon" not in queue(editor_oslo)
    assert login(editor_oslo).get(decide_url(report)).status_code == 403
    page = login(editor_vestland).get(decide_url(report)).content.decode()
    # The arrangement as it stands, to compare with the report.
    assert "Grete Grensestad" in page and reverse("admin:registry_arrangement_change", args=[across_border.pk]) in page
    assert login(editor_vestland).post(decide_url(report), {"decision": "approve"}).status_code == 302
    report.refresh_from_db()
    assert (report.status, report.decided_by) == (QueueStatus.APPROVED, editor_vestland)
    (message,) = mail.outbox
    assert message.to == ["a@example.no"] and "Grensesamarbeidet" in message.body
    assert "Statsforvalteren i Trøndelag" in message.body and "Statsforvaltaren i Vestland" in message.body


def test_an_office_outside_the_arrangement_cannot_decide_its_report_through_the_services(across_border, editor_oslo):
    from django.core.exceptions import PermissionDenied

    report = services.report_error(subject=across_border, message="Feil.")
    with pytest.raises(PermissionDenied):
        services.decide_report(report, corrected=False, note="Nei.", by=editor_oslo)
    assert ErrorReport.objects.get(pk=report.pk).status == QueueStatus.OPEN


def test_the_weekly_digest_lists_an_arrangement_report_for_both_offices(across_border):
    services.report_error(subject=across_border, message="Feil e-post.")
    with_reports = {part.office.code: len(part.reports) for part in freshness_report().offices}
    assert with_reports["trondelag"] == 1 and with_reports["vestland"] == 1
    assert sum(with_reports.values()) == 2


@pytest.mark.parametrize("url", ["/bydel/039999/meld-feil/", "/ordning/999999/meld-feil/"])
def test_an_unknown_district_or_arrangement_is_not_found(client, url):
    assert client.get(url).status_code == 404
    assert send(client, url).status_code == 404
    assert not ErrorReport.objects.exists()


def test_a_report_names_one_subject_only(across_border):
    with pytest.raises(IntegrityError), services.write_path():
        ErrorReport.objects.create(municipality=municipality("5001"), arrangement=across_border, message="Feil.")


def test_a_district_report_always_names_its_municipality():
    district = District.objects.get(number=GRUNERLOKKA)
    with pytest.raises(IntegrityError), services.write_path():
        ErrorReport.objects.create(district=district, message="Feil.")


def test_the_queue_lists_district_reports_without_a_query_per_report(national_admin):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    districts = list(District.objects.filter(municipality__number="0301").order_by("number")[:4])
    client = login(national_admin)
    url = reverse("admin:registry_errorreport_changelist")
    counts = []
    for district in districts[:1], districts[1:]:
        for place in district:
            services.report_error(subject=place, message="Feil.")
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
