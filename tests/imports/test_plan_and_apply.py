"""The import as read → plan → apply, and the side doors the first version left open (issue: one write path)."""

import pytest
from django.urls import reverse
from django.utils import translation

from imports.normalise import find_layout
from imports.planning import Snapshot, make_plan, read_rows
from imports.services import import_scope
from imports.sheets import read_sheet
from registry.models import Appointment, ContactKind, FormerNumber, Municipality, Phone, PhoneKind, Physician, Role
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, municipality
from tests.imports.conftest import csv_bytes, xlsx_bytes

HEADER = "Kommunenummer;Kommune;Kommuneoverlege;Telefon;E-post;HPR-nummer\n"


def sheet(*rows, header=HEADER):
    return csv_bytes(header + "".join(row + "\n" for row in rows))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def problems(report):
    return {row.number: [p.message for p in row.problems] for row in report.rejected}


def found(client, query):
    return client.get("/", {"q": query}).content.decode()


# 1. An imported physician is found by name, and a renamed one by the new name only.


def test_an_imported_physician_is_found_by_name_in_the_national_list(import_sheet, superuser, client):
    report = import_sheet(sheet("5045;Grong;Ingeborg Åsheim;91112222;;1234567"), user=superuser)
    assert report.saved
    assert "Ingeborg Åsheim" in found(client, "Åsheim") and "Ingeborg Åsheim" in found(client, "asheim")


def test_a_physician_renamed_by_an_import_is_found_by_the_new_name_and_not_the_old(import_sheet, superuser, client):
    import_sheet(sheet("5045;Grong;Ida Felles;91112222;;1234567"), user=superuser)
    report = import_sheet(sheet("5045;Grong;Ida Berg;91112222;;1234567"), user=superuser)
    assert report.saved and Physician.objects.get().name == "Ida Berg"
    assert "Ida Berg" in found(client, "Berg")
    assert "Ida Berg" not in found(client, "Felles")


# 3. Another office's physician: appointed by HPR number, never changed.


@pytest.fixture
def vestland_physician(db, today):
    physician = PhysicianFactory(name="Vera Vest", email="vera@bergen.example.no", hpr_number="7777777")
    PhoneFactory(physician=physician)
    AppointmentFactory(physician=physician, municipality=municipality("4601"))
    return physician


def test_an_import_appoints_another_offices_physician_by_hpr_and_changes_nothing_about_them(
    import_sheet, editor_trondelag, vestland_physician
):
    report = import_sheet(sheet("5045;Grong;Vera Vest-Olsen;91110000;kapret@example.no;7777777"), user=editor_trondelag)

    assert report.saved
    assert Appointment.objects.filter(physician=vestland_physician, municipality__number="5045").exists()
    stored = Physician.objects.get(pk=vestland_physician.pk)
    assert (stored.name, stored.email) == ("Vera Vest", "vera@bergen.example.no")
    assert not Phone.objects.filter(number="+4791110000").exists()
    notes = report.rows[0].notes
    assert any(
        n.startswith("Not changed: name «Vera Vest-Olsen»") and "Statsforvaltaren i Vestland" in n for n in notes
    )
    assert any(n.startswith("Not changed: email «kapret@example.no»") for n in notes)
    assert any("number 91 11 00 00 is not added" in n for n in notes)


def test_an_import_does_not_appoint_another_offices_physician_found_without_hpr(
    import_sheet, editor_trondelag, vestland_physician
):
    report = import_sheet(sheet("5045;Grong;Vera Vest;;vera@bergen.example.no;"), user=editor_trondelag)

    assert not report.saved
    (message,) = problems(report)[2]
    assert "kept by Statsforvaltaren i Vestland" in message and "write their HPR number" in message
    assert not Appointment.objects.filter(municipality__number="5045").exists()


# 4. Never guess, and say every inference.


def test_every_reading_that_is_not_literal_is_shown_beside_its_row(import_sheet, superuser):
    report = import_sheet(
        sheet(
            ";Levanger;Lege En;91110001;;",
            ";Guovdageaidnu;Lege To;91110002;;",
            ";Osen kommune;Lege Tre;91110003;;",
            "3005;Drammen;Lege Fire;91110004;;",
            "5001;Trondheim;Lege Fem;91110005;;",
        ),
        user=superuser,
        dry_run=True,
    )
    notes = {row.number: row.notes for row in report.rows}
    assert notes[2] == ["Read from the name only: 5037 Levanger (Trøndelag)."]
    assert notes[3] == ["«Guovdageaidnu» is the Sami or Kven name of 5612 Kautokeino (Finnmark)."]
    assert notes[4] == ["«Osen kommune» read as 5020 Osen (Trøndelag), from the name only."]
    assert notes[5] == ["3005 was Drammen's number until 2023: written to 3301 Drammen."]
    assert notes[6] == []


# 6. Old numbers.


def test_a_pandemic_era_sheet_is_written_to_the_2024_numbers(import_sheet, superuser):
    report = import_sheet(
        sheet("3005;Drammen;Lege Drammen;91110001;;", "3024;Bærum;Lege Bærum;91110002;;", "5412;;Lege T;91110003;;"),
        user=superuser,
    )
    assert report.saved
    assert sorted(Appointment.objects.values_list("municipality__number", flat=True)) == ["3201", "3301", "5512"]


def test_a_number_whose_municipality_split_is_a_row_error_naming_both(import_sheet, superuser):
    report = import_sheet(sheet("1507;Ålesund;Lege Ålesund;91110001;;"), user=superuser)
    assert problems(report) == {
        2: [
            "1507 Ålesund went to more than one municipality: 1508 Ålesund (Møre og Romsdal) or 1580 Haram "
            "(Møre og Romsdal). Write the new number."
        ]
    }


def test_the_api_and_the_page_send_an_old_number_to_the_new_one(client, db):
    response = client.get("/api/municipalities/3005/?format=json")
    assert response.status_code == 301 and response["Location"] == "/api/municipalities/3301/?format=json"
    page = client.get(reverse("registry:municipality-detail", args=["3005"]))
    assert page.status_code == 301 and page["Location"] == reverse("registry:municipality-detail", args=["3301"])
    assert client.get("/api/municipalities/3301/").status_code == 200
    assert client.get("/api/municipalities/9998/").status_code == 404


# 7. Headers by their words; numbers stored as numbers.


def test_real_office_headers_keep_their_phone_numbers_and_kinds(import_sheet, superuser):
    data = xlsx_bytes(
        [
            ["Kommunenr", "Kommune", "Kommuneoverlege", "Telefon (mobil)", "Telefon\n(sentralbord)", "Tlf. jobb"],
            [5045, "Grong", "Kari Grong", 4791234567, 74312000, "74 31 20 01"],
            [5042, "Lierne", "Lars Lierne", 90011223.0, None, None],
        ]
    )
    report = import_sheet(data, name="kontakter.xlsx", user=superuser)

    assert report.saved and not report.no_phone_columns
    phones = {(p.number.as_e164, p.kind, p.physician.name) for p in Phone.objects.all()}
    assert phones == {
        ("+4791234567", PhoneKind.MOBILE, "Kari Grong"),
        ("+4774312001", PhoneKind.OFFICE, "Kari Grong"),
        ("+4790011223", PhoneKind.MOBILE, "Lars Lierne"),
    }
    (switchboard,) = municipality("5045").function_contacts.all()
    assert (switchboard.number.as_e164, switchboard.kind) == ("+4774312000", ContactKind.SWITCHBOARD)


def test_a_sheet_without_a_recognised_phone_column_waits_for_a_yes(import_sheet, superuser):
    data = sheet("5045;Grong;Kari Grong;91112222", header="Kommunenummer;Kommune;Kommuneoverlege;Faks\n")
    refused = import_sheet(data, user=superuser)
    assert refused.no_phone_columns and not refused.saved and Physician.objects.count() == 0
    accepted = import_sheet(
        sheet(";Grong;Kari Grong;;kari@grong.example.no", header="Knr;Kommune;Lege;Faks;E-post\n"),
        user=superuser,
        accept_no_phones=True,
    )
    assert accepted.saved and Physician.objects.get().name == "Kari Grong"


def test_a_country_code_in_brackets_is_part_of_the_number_not_a_note(import_sheet, superuser):
    import_sheet(sheet("5045;Grong;Kari Grong;(+47) 412 34 567;;"), user=superuser)
    phone = Phone.objects.get()
    assert (phone.number.as_e164, phone.note) == ("+4741234567", "")


# 8. Vacancy words.


@pytest.mark.parametrize("word", ["VAKANT", "Vakant", "Ledig", "Ubesatt", "Vacant", "Vakant (utlyst)"])
def test_a_vacancy_word_makes_the_rows_numbers_the_municipalitys_function_contacts(import_sheet, superuser, word):
    report = import_sheet(sheet(f"1515;Herøy;{word};70 08 13 00;postmottak@heroy.kommune.no;"), user=superuser)

    assert report.saved and Physician.objects.count() == 0
    heroy = Municipality.objects.get(number="1515")
    mailbox, switchboard = heroy.function_contacts.order_by("kind")
    assert (mailbox.kind, mailbox.email) == (ContactKind.ROLE_MAILBOX, "postmottak@heroy.kommune.no")
    assert (switchboard.kind, switchboard.number.as_e164) == (ContactKind.SWITCHBOARD, "+4770081300")
    assert not Phone.objects.exists()
    (row,) = report.rows
    assert row.kind == "new" or row.kind == "updated"
    assert any("vacant" in note for note in row.notes)
    assert [str(step.action) for step in row.steps] == ["Add a function contact"] * 2


def test_a_vacancy_leaves_the_current_holder_to_the_missing_list(import_sheet, superuser, today):
    AppointmentFactory(municipality=municipality("5045"), role=Role.CHIEF_PHYSICIAN)
    report = import_sheet(sheet("5045;Grong;VAKANT;;;"), user=superuser, dry_run=True)
    assert report.rows[0].kind == "skipped" and len(report.missing) == 1


# 2. The plan is a pure function, and the confirm applies exactly what was previewed.


def test_planning_reads_no_database(superuser, django_assert_num_queries, today):
    data = sheet("5045;Grong;Kari Grong;91112222;;", ";Herøy;Hans;91112223;;")
    parsed = read_sheet(data, "kontakter.csv")
    layout = find_layout(parsed.rows)
    rows, skipped = read_rows(parsed, layout)
    snapshot = Snapshot(today=today, scope=import_scope(superuser))
    with django_assert_num_queries(0):
        plan = make_plan(rows, layout=layout, snapshot=snapshot, skipped=skipped)
    assert [row.kind for row in plan.rows] == ["new", "error"]


def test_a_plan_made_again_on_the_same_registry_has_the_same_digest(import_sheet, superuser):
    data = sheet("5045;Grong;Kari Grong;91112222;;")
    assert (
        import_sheet(data, user=superuser, dry_run=True).digest
        == import_sheet(data, user=superuser, dry_run=True).digest
    )


def test_a_confirm_whose_plan_changed_since_the_preview_writes_nothing(import_sheet, superuser):
    data = sheet("5045;Grong;Kari Grong;91112222;;")
    previewed = import_sheet(data, user=superuser, dry_run=True)
    PhysicianFactory(name="Kari Grong", email="", hpr_number=None)
    PhoneFactory(physician=Physician.objects.get(name="Kari Grong"), number="+4791112222")
    report = import_sheet(data, user=superuser, expected_digest=previewed.digest)
    assert report.plan_changed and not report.saved
    assert not Appointment.objects.exists()


def test_unchanged_twice_imported_sheet_changes_nothing(import_sheet, superuser):
    data = sheet("5045;Grong;Kari Grong;91112222;kari@grong.example.no;1234567")
    import_sheet(data, user=superuser)
    before = Physician.history.count() + Appointment.history.count() + Phone.history.count()
    again = import_sheet(data, user=superuser)
    assert again.counts["unchanged"] == 1
    assert Physician.history.count() + Appointment.history.count() + Phone.history.count() == before
    assert FormerNumber.objects.count() == 113
