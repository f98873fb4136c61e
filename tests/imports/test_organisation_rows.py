"""The contact sheet and the organisation models, for a sheet without the district and arrangement columns: it
speaks of a municipality's own people. It neither changes nor ends a district's bydelsoverlege or an arrangement's
appointment, never mistakes them for the municipality's own, and refuses a row that would contradict an
arrangement. (The columns themselves: test_organisation_import.py.)"""

import datetime

import pytest
from django.utils import timezone, translation

from imports.services import export_file
from registry.models import Appointment, Arrangement, ArrangementKind, District, Membership, Physician, Role
from tests.factories import AppointmentFactory, PhysicianFactory, municipality, write
from tests.imports.conftest import csv_bytes

HEADER = "Kommunenummer;Kommune;Kommuneoverlege;Telefon;E-post;HPR-nummer\n"
NAMDAL = ("5045", "5042", "5044", "5043")


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def organised(db, today):
    """Indre Namdal's four municipalities share Kari through an arrangement; Oslo has its own chief physician
    and a bydelsoverlege in Grünerløkka."""
    since = timezone.localdate() - datetime.timedelta(days=60)
    (namdal,) = write(Arrangement(name="Indre Namdal legetjeneste", kind=ArrangementKind.TASK_COMMUNITY))
    write(*[Membership(arrangement=namdal, municipality=municipality(n), valid_from=since) for n in NAMDAL])
    kari = PhysicianFactory(name="Kari Namdal", email="kari@namdal.example.no", hpr_number="1111111")
    AppointmentFactory(physician=kari, municipality=None, arrangement=namdal, start_date=since)
    oslo = PhysicianFactory(name="Ola Oslo", email="ola@oslo.example.no", hpr_number="2222222")
    AppointmentFactory(physician=oslo, municipality=municipality("0301"), start_date=since)
    district = District.objects.get(number="030102")
    bydel = PhysicianFactory(name="Berit Bydel", email="berit@oslo.example.no", hpr_number="3333333")
    AppointmentFactory(physician=bydel, municipality=municipality("0301"), district=district, start_date=since)
    return {"namdal": namdal, "kari": kari, "oslo": oslo, "bydel": bydel}


def sheet(*rows):
    return csv_bytes(HEADER + "".join(row + "\n" for row in rows))


def test_the_export_imports_back_unchanged_with_arrangements_and_districts(organised, import_sheet):
    data, _content_type = export_file(None, "csv")
    text = data.decode("utf-8-sig")
    grong = next(line for line in text.splitlines() if line.startswith("5045;"))
    assert "Kari Namdal" in grong, "a member's row shows who holds the role through the arrangement"
    assert "Indre Namdal legetjeneste (kommunalt oppgavefellesskap)" in grong, "through what, with its kind"
    (berit,) = [line for line in text.splitlines() if "Berit Bydel" in line]
    assert ";Grünerløkka;" in berit, "a district's physician is on the district's row, not the municipality's own"
    report = import_sheet(data, name="eksport.csv", dry_run=True, end_missing=True)
    assert not report.has_errors, [p.message for row in report.rejected for p in row.problems]
    assert report.counts["new"] == report.counts["updated"] == 0 and report.missing == []


def test_a_sheet_for_oslo_never_ends_the_bydelsoverlege(organised, import_sheet):
    report = import_sheet(sheet("0301;Oslo;Per Ny;91234567;per@oslo.example.no;4444444"), end_missing=True)
    assert report.saved, report.error
    assert Appointment.objects.get(physician=organised["bydel"]).end_date is None
    assert len(report.ended) == 1 and "Ola Oslo" in str(report.ended[0])


def test_naming_the_arrangements_physician_on_a_members_row_changes_nothing(organised, import_sheet):
    before = Appointment.objects.count()
    report = import_sheet(sheet("5042;Lierne;Kari Namdal;;;"))
    assert report.saved and not report.has_errors
    assert Appointment.objects.count() == before, "no own appointment beside the arrangement's"
    assert not Appointment.objects.filter(municipality=municipality("5042")).exists()


def test_naming_someone_else_where_an_arrangement_holds_the_role_is_refused_with_the_reason(organised, import_sheet):
    report = import_sheet(sheet("5045;Grong;Nils Annen;91234567;nils@example.no;5555555"))
    assert not report.saved
    (row,) = report.rejected
    (message,) = [problem.message for problem in row.problems]
    assert "Indre Namdal legetjeneste" in message and "Kari Namdal" in message and "Nils Annen" in message
    assert not Physician.objects.filter(name="Nils Annen").exists()


def test_the_infection_control_role_is_free_where_the_arrangement_holds_only_the_chief(organised, import_sheet):
    header = "Kommunenummer;Kommune;Smittevernoverlege;Smittevernoverlege telefon\n"
    report = import_sheet(csv_bytes(header + "5045;Grong;Sara Smitte;91234567\n"))
    assert report.saved and not report.has_errors
    (appointment,) = Appointment.objects.filter(role=Role.INFECTION_CONTROL_PHYSICIAN)
    assert (appointment.physician.name, appointment.municipality.number) == ("Sara Smitte", "5045")
