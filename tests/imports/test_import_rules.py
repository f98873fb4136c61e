"""The import's rules: regions, who is the same person, what changed, what is missing, the audit trail."""

import pytest
from django.utils import translation

from accounts.services import add_editor
from registry import services
from registry.models import Appointment, Phone, Physician, Role
from registry.phones import parse_phone
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality
from tests.imports.conftest import csv_bytes

HEADER = "Kommunenummer;Kommune;Kommuneoverlege;Telefon;E-post;HPR-nummer;Stedfortreder;Stedfortreder telefon\n"


def sheet(*rows):
    return csv_bytes(HEADER + "".join(row + "\n" for row in rows))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def kinds(report):
    return {row.number: row.kind for row in report.rows}


def problems(report):
    return {row.number: [(p.column, p.message) for p in row.problems] for row in report.rejected}


# Regions.


def test_an_editor_cannot_import_a_row_for_another_office(import_sheet, editor_vestland):
    report = import_sheet(sheet("5001;Trondheim;Kari Lege;91844552;;;;"), user=editor_vestland)

    assert problems(report) == {
        2: [
            (
                "A «Kommunenummer»",
                "5001 Trondheim (Trøndelag) is outside your region: you can import only for the municipalities "
                "your office keeps. Remove the row, or ask that office to import it.",
            )
        ]
    }
    assert not report.saved and Physician.objects.count() == 0


def test_an_editor_imports_the_rows_of_their_own_region(import_sheet, editor_trondelag):
    report = import_sheet(sheet("5001;Trondheim;Kari Lege;91844552;;;;"), user=editor_trondelag)

    assert report.saved and kinds(report) == {2: "new"}
    assert Appointment.objects.get().municipality.number == "5001"


def test_with_valid_rows_only_an_editor_gets_their_own_rows_in_and_the_others_back(import_sheet, editor_trondelag):
    report = import_sheet(
        sheet("5001;Trondheim;Kari Lege;91844552;;;;", "4601;Bergen;Berit Berg;91844553;;;;"),
        user=editor_trondelag,
        skip_invalid=True,
    )

    assert kinds(report) == {2: "new", 3: "error"}
    assert report.saved and list(Physician.objects.values_list("name", flat=True)) == ["Kari Lege"]


def test_a_shared_name_is_read_as_the_municipality_in_the_editors_region(import_sheet, db, today):
    editor_nordland = add_editor(username="redaktor-nordland", office_code="nordland")[0]
    report = import_sheet(sheet(";Herøy;Hans Herøy;90000000;;;;"), user=editor_nordland)

    assert report.saved and Appointment.objects.get().municipality.number == "1818"


def test_a_shared_name_is_never_guessed_from_the_sheets_other_rows(import_sheet, superuser):
    # The national sheet that wrote both physicians to 1818 Herøy (Nordland): a 70-area number and a
    # heroy.kommune.no address say Møre og Romsdal, but the import must ask, not pick.
    report = import_sheet(
        sheet(";Herøy;Hans Herøy;70 08 13 00;lege@heroy.kommune.no;;;", "1818;Herøy;Nora Nordland;90000000;;;;"),
        user=superuser,
    )

    assert problems(report) == {
        2: [
            (
                "B «Kommune»",
                "«Herøy» is the name of more than one municipality: 1515 Herøy (Møre og Romsdal) or 1818 Herøy "
                "(Nordland). Write the number.",
            )
        ]
    }
    assert kinds(report)[3] == "new"
    assert not report.saved and Appointment.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "candidates"),
    [
        ("Herøy", "1515 Herøy (Møre og Romsdal) or 1818 Herøy (Nordland)"),
        ("Våler", "3114 Våler (Østfold) or 3419 Våler (Innlandet)"),
    ],
)
def test_a_shared_name_without_a_number_names_both_candidates(import_sheet, superuser, name, candidates):
    report = import_sheet(sheet(f";{name};Kari Lege;90000000;;;;"), user=superuser, dry_run=True)

    assert candidates in problems(report)[2][0][1]


def test_a_shared_name_is_settled_by_the_region_and_the_preview_says_so(import_sheet, db, today):
    editor_nordland = add_editor(username="redaktor-nordland", office_code="nordland")[0]
    report = import_sheet(sheet(";Herøy;Hans Herøy;90000000;;;;"), user=editor_nordland)

    assert report.saved and Appointment.objects.get().municipality.number == "1818"
    assert report.rows[0].notes == [
        "«Herøy» is the name of 1515 Herøy (Møre og Romsdal) or 1818 Herøy (Nordland); 1818 Herøy (Nordland) "
        "is the one in your region."
    ]


# One person on several rows.


def test_the_same_hpr_number_is_one_person_even_with_another_name(import_sheet, superuser):
    report = import_sheet(
        sheet("5045;Grong;Ida Felles;91112222;;1234567;;", "5042;Lierne;Ida Felles-Berg;;;1234567;;"),
        user=superuser,
    )

    assert report.saved and Physician.objects.count() == 1
    assert Physician.objects.get().name == "Ida Felles-Berg"
    assert Appointment.objects.filter(physician__hpr_number="1234567").count() == 2


def test_a_chief_physician_who_is_deputy_elsewhere_is_one_person(import_sheet, superuser):
    import_sheet(
        sheet(
            "5045;Grong;Ida Felles;91112222;ida@namdal.no;;Per Vara;92223333",
            "5042;Lierne;Per Vara;92223333;;;Ida Felles;91112222",
        ),
        user=superuser,
    )

    assert Physician.objects.count() == 2
    assert set(Appointment.objects.values_list("municipality__number", "role", "physician__name")) == {
        ("5045", Role.CHIEF_PHYSICIAN, "Ida Felles"),
        ("5045", Role.DEPUTY, "Per Vara"),
        ("5042", Role.CHIEF_PHYSICIAN, "Per Vara"),
        ("5042", Role.DEPUTY, "Ida Felles"),
    }


def test_an_existing_physician_is_matched_by_email_in_any_case(import_sheet, superuser):
    existing = PhysicianFactory(name="Ida Felles", email="Ida.Felles@Namdal.no", hpr_number=None)
    report = import_sheet(sheet("5045;Grong;Ida Felles;;ida.felles@namdal.no;;;"), user=superuser)

    assert kinds(report) == {2: "new"} and Physician.objects.get() == existing
    assert Appointment.objects.get().physician == existing


def test_a_shared_mailbox_does_not_make_two_people_one(import_sheet, superuser):
    import_sheet(sheet("5045;Grong;Ida Felles;;lege@grong.kommune.no;;Per Vara;92223333"), user=superuser)
    services.delete_entries(Appointment.objects.filter(role=Role.DEPUTY), by=services.SYSTEM, reason="test")
    report = import_sheet(sheet("5045;Grong;Ida Felles;;lege@grong.kommune.no;;Per Vara;92223333"), user=superuser)

    assert Physician.objects.count() == 2 and report.rejected == []


def test_a_name_and_phone_number_match_an_existing_physician(import_sheet, superuser):
    existing = PhysicianFactory(name="Ida Felles", email="", hpr_number=None)
    PhoneFactory(physician=existing, number=parse_phone("911 12 222"))
    report = import_sheet(sheet("5045;Grong;ida  felles;+47 91112222;;;;"), user=superuser)

    assert report.saved and Physician.objects.get() == existing


def test_the_same_name_with_another_phone_is_another_person(import_sheet, superuser):
    existing = PhysicianFactory(name="Ida Felles", email="", hpr_number=None)
    PhoneFactory(physician=existing, number=parse_phone("911 12 222"))
    import_sheet(sheet("5045;Grong;Ida Felles;92223333;;;;"), user=superuser)

    assert Physician.objects.count() == 2


# Vacancies, repeats and the role column.


def test_a_vacancy_is_skipped_not_an_error(import_sheet, superuser):
    report = import_sheet(sheet("5044;Namsskogan;;;;;;", "5043;Røyrvik;Vakant;;;;;"), user=superuser)

    assert kinds(report) == {2: "skipped", 3: "skipped"}
    assert report.rows[0].reason == "No physician on this row (a vacancy): nothing to import."
    assert report.saved and not report.has_errors


def test_a_repeated_row_and_a_repeated_header_are_skipped(import_sheet, superuser):
    report = import_sheet(
        sheet("5045;Grong;Ida Felles;91112222;;;;", HEADER.strip(), "5045;Grong;Ida Felles;91112222;;;;"),
        user=superuser,
    )

    assert kinds(report) == {2: "new", 3: "skipped", 4: "skipped"}
    assert [row.reason for row in report.rows[1:]] == ["Repeats the header row.", "Repeats row 2."]
    assert Appointment.objects.count() == 1


def test_a_role_column_says_which_role_the_person_on_the_row_has(import_sheet, superuser):
    data = csv_bytes(
        "Kommune;Rolle;Navn;Mobil\n"
        "Grong;Kommuneoverlege;Ida Felles;91112222\n"
        "Grong;Stedfortreder;Per Vara;92223333\n"
        "Grong;Smittevernoverlege;Ida Felles;91112222\n"
    )
    report = import_sheet(data, user=superuser)

    assert report.saved
    assert set(Appointment.objects.values_list("role", "physician__name")) == {
        (Role.CHIEF_PHYSICIAN, "Ida Felles"),
        (Role.DEPUTY, "Per Vara"),
        (Role.INFECTION_CONTROL_PHYSICIAN, "Ida Felles"),
    }


def test_a_phone_number_without_a_name_is_an_error(import_sheet, superuser):
    report = import_sheet(sheet("5045;Grong;;91112222;;;;"), user=superuser)

    assert problems(report)[2][0][0] == "C «Kommuneoverlege»"
    assert "no name" in problems(report)[2][0][1]


# Changes, absences and the audit trail.


@pytest.fixture
def grong(superuser):
    """Grong with a chief physician (with a mobile) and a deputy, entered in the admin before."""
    chief = PhysicianFactory(name="Ida Felles", email="ida@namdal.no", hpr_number="1234567")
    PhoneFactory(physician=chief, number=parse_phone("911 12 222"))
    deputy = PhysicianFactory(name="Per Vara", email="per@namdal.no", hpr_number=None)
    PhoneFactory(physician=deputy, number=parse_phone("922 23 333"))
    AppointmentFactory(physician=chief, municipality=municipality("5045"), role=Role.CHIEF_PHYSICIAN)
    AppointmentFactory(physician=deputy, municipality=municipality("5045"), role=Role.DEPUTY)
    return chief, deputy


def test_a_sheet_matching_the_registry_changes_nothing(import_sheet, superuser, grong):
    report = import_sheet(
        sheet("5045;Grong;Ida Felles;911 12 222;ida@namdal.no;1234567;Per Vara;92223333"), user=superuser
    )

    assert kinds(report) == {2: "unchanged"} and report.rows[0].changes == []


def test_an_updated_sheet_reports_each_change_with_old_and_new_value(import_sheet, superuser, grong):
    report = import_sheet(
        sheet("5045;Grong;Ida Felles;911 12 222 (kun dagtid) / 73 19 90 00;ida.felles@grong.no;1234567;Per Vara;"),
        user=superuser,
    )

    assert kinds(report) == {2: "updated"}
    assert report.rows[0].changes == [
        ("E «E-post»", "ida@namdal.no", "ida.felles@grong.no"),
        ("D «Telefon»", "91 11 22 22", "91 11 22 22 (kun dagtid)"),
        ("D «Telefon»", "", "73 19 90 00"),
    ]
    chief = Physician.objects.get(name="Ida Felles")
    assert chief.email == "ida.felles@grong.no"
    assert set(chief.phones.values_list("note", flat=True)) == {"kun dagtid", ""}


def test_a_new_holder_shows_whom_they_follow(import_sheet, superuser, grong):
    report = import_sheet(sheet("5045;Grong;Nina Ny;93334444;;;Per Vara;"), user=superuser)

    assert report.rows[0].changes[0] == ("C «Kommuneoverlege»", "", "Nina Ny")
    assert len(report.missing) == 1 and "Ida Felles" in report.missing[0]


def test_appointments_missing_from_the_sheet_are_reported_not_ended(import_sheet, superuser, grong, today):
    report = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;;"), user=superuser)

    assert report.missing == ["5045 Grong, deputy: Per Vara (since 01.01.2024)"]
    assert report.ended == [] and Appointment.objects.filter(end_date__isnull=False).count() == 0


def test_missing_appointments_are_ended_today_only_when_asked(import_sheet, superuser, grong, today):
    report = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;;"), user=superuser, end_missing=True)

    ended = Appointment.objects.get(role=Role.DEPUTY)
    assert report.ended == report.missing and ended.end_date == today
    assert ended.history.first().history_user == superuser
    again = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;;"), user=superuser, end_missing=True)
    assert again.missing == [] and again.ended == []


def test_absences_are_only_those_of_the_sheets_office_and_roles(import_sheet, superuser, grong):
    AppointmentFactory(municipality=municipality("0301"))
    AppointmentFactory(municipality=municipality("5042"), role=Role.INFECTION_CONTROL_PHYSICIAN)
    report = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;Per Vara;"), user=superuser)

    # Oslo belongs to another office; the sheet has no infection control column.
    assert report.missing == []


def test_an_editor_is_not_told_about_other_offices_absences(import_sheet, editor_trondelag, grong):
    AppointmentFactory(municipality=municipality("1804"))
    report = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;;"), user=editor_trondelag)

    assert [line.split(",")[0] for line in report.missing] == ["5045 Grong"]


def test_nothing_is_ended_while_a_rows_municipality_cannot_be_read(import_sheet, superuser, grong):
    report = import_sheet(
        sheet("5045;Grong;Ida Felles;91112222;;;;", ";Grongg;Per Vara;92223333;;;;"),
        user=superuser,
        skip_invalid=True,
        end_missing=True,
    )

    assert report.end_blocked and report.ended == []
    assert Appointment.objects.filter(end_date__isnull=False).count() == 0


def test_changes_appear_in_the_audit_trail_with_the_importing_user(import_sheet, editor_trondelag, grong):
    import_sheet(
        sheet("5045;Grong;Ida Felles;91112222 / 73199000;ida@grong.no;;Nina Ny;93334444"), user=editor_trondelag
    )

    chief = Physician.objects.get(name="Ida Felles")
    latest = chief.history.first()
    assert latest.history_user == editor_trondelag and latest.history_type == "~"
    assert latest.prev_record.email == "ida@namdal.no" and latest.email == "ida@grong.no"
    nina = Physician.objects.get(name="Nina Ny")
    assert nina.history.get().history_user == editor_trondelag and nina.updated_by == editor_trondelag
    assert Appointment.history.filter(physician_id=nina.pk, history_user=editor_trondelag).count() == 1
    assert Phone.history.filter(history_user=editor_trondelag).count() == 2


def test_a_dry_run_writes_nothing(import_sheet, superuser):
    report = import_sheet(sheet("5045;Grong;Ida Felles;91112222;;;;"), user=superuser, dry_run=True)

    assert kinds(report) == {2: "new"} and not report.saved
    assert Physician.objects.count() == 0 and Physician.history.count() == 0


def big_sheet(rows):
    numbers = ["5001", "5006", "5007", "5014", "5020", "5041", "5042", "5043", "5044", "5045"]
    return sheet(
        *[
            f"{numbers[i % 10]};;Lege {i};9{i:07d} / 7{i:07d};lege{i}@example.no;{2000000 + i};Vara {i};4{i:07d}"
            for i in range(rows)
        ]
    )


@pytest.mark.parametrize("rows", [20, 400])
def test_the_number_of_queries_does_not_grow_with_the_rows(
    import_sheet, superuser, rows, django_assert_max_num_queries
):
    PhysicianFactory.create_batch(5)
    with django_assert_max_num_queries(40):
        report = import_sheet(big_sheet(rows), user=superuser, dry_run=True)
    assert report.counts["new"] == rows
    with django_assert_max_num_queries(100):
        report = import_sheet(big_sheet(rows), user=superuser)
    assert report.saved and Physician.objects.count() == 5 + 2 * rows


def test_new_rows_get_the_history_entry_simple_history_would_write(import_sheet, editor_trondelag):
    import_sheet(sheet("5045;Grong;Ida Felles;91112222;ida@namdal.no;1234567;;"), user=editor_trondelag)

    for obj in (Physician.objects.get(), Appointment.objects.get(), Phone.objects.get()):
        entry = obj.history.get()
        assert (entry.history_type, entry.history_user, entry.history_change_reason) == (
            "+",
            editor_trondelag,
            "import of kontakter.csv",
        )
        for field in type(obj).history.model.tracked_fields:
            assert getattr(entry, field.attname) == getattr(obj, field.attname), field.name
    assert Physician.objects.get().updated_by == editor_trondelag
