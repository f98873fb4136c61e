"""A real office's sheet, made by hand: the same rows as .xlsx, .ods and both CSV dialects give the same outcome."""

import csv
import io

import pytest
from django.utils import translation

from registry.models import Appointment, Phone, Physician, Role
from tests.imports.conftest import ods_bytes, xlsx_bytes

HEADER = [
    "Knr",
    "Kommune",
    "Lege",
    "Tlf. arbeid",
    "E-post",
    "HPR-nummer",
    "Stedfortreder",
    "Mobil stedfortreder",
    "E-post stedfortreder",
    "Smittevernoverlege",
    "Merknad",
    "Fax",
]
# Integers where Excel stores numbers: 301 lost its leading zero, 4791234567 lost its "+".
MESSY_ROWS = [
    ["Kommuneoverleger – Statsforvalteren i Trøndelag"],
    ["Oppdatert 01.10.2026"],
    [],
    HEADER,
    [
        5001,
        "Trondheim kommune",
        "Kari Nordmann",
        "73 19 90 00 / 918 44 552",
        "kari.nordmann@trondheim.kommune.no",
        1234567,
        "Per Hansen",
        "95 11 22 33 (kun dagtid)",
        "per.hansen@trondheim.kommune.no",
        "Kari Nordmann",
        "Ny avtale fra oktober",
        "73 19 90 01",
    ],
    [301, "oslo", "Ola Normann", 4791234567],
    [],
    [None, "Raarvihke – Røyrvik", "Ida Felles", 91112222, "ida.felles@namdal.no"],
    [None, "  GRONG  ", "Ida Felles", "911 12 222", "IDA.FELLES@namdal.no"],
    ["5042", "Lierne", "Ida Felles", "+47 911\u00a012\u00a0222"],
    ["5044", "Namsskogan", "vakant"],
    [None, "Snåase", "Siv Sør", "0046 70 123 45 67"],
    [None, "Herøy", "Hans Herøy", "900 00 000"],
    ["5006", "Steinkjer", "Lise Feil", "95 11 22 33 kun dagtid"],
    ["5007", "Namsos", "Nils Uten"],
    ["5014", "Frøya", "Frida Frøya", None, "frida(at)froya.no"],
    ["9999", None, "Xavier Ukjent", "918 00 001"],
    ["5020", "Osen kommune", "Olav Osen", "918 00 000", "olav@osen.no", "12AB"],
]

# Row number → outcome; rows 3 and 7 are blank.
EXPECTED_KINDS = {
    5: "new",
    6: "new",
    8: "new",
    9: "new",
    10: "new",
    11: "skipped",
    12: "new",
    13: "error",
    14: "error",
    15: "error",
    16: "error",
    17: "error",
    18: "error",
}
# Row number → (column, value) of the one problem the row has.
EXPECTED_PROBLEMS = {
    13: ("B «Kommune»", "Herøy"),
    14: ("D «Tlf. arbeid»", "95 11 22 33 kun dagtid"),
    15: ("D «Tlf. arbeid»", ""),
    16: ("E «E-post»", "frida(at)froya.no"),
    17: ("A «Knr»", "9999"),
    18: ("F «HPR-nummer»", "12AB"),
}


def csv_text(rows, delimiter):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return out.getvalue()


def messy_file(kind, rows=MESSY_ROWS):
    """Return (bytes, file name) of `rows` saved the way the offices save them."""
    if kind == "xlsx":
        return xlsx_bytes(rows), "kontakter.xlsx"
    if kind == "ods":
        return ods_bytes(rows), "kontakter.ods"
    if kind == "csv-excel-norwegian":
        # What "Lagre som CSV" in a Norwegian Excel writes: semicolons, Windows-1252.
        return csv_text(rows, ";").encode("cp1252"), "kontakter.csv"
    if kind == "csv-utf8-bom":
        return ("\ufeff" + csv_text(rows, ",")).encode("utf-8"), "kontakter.csv"
    raise ValueError(kind)


FORMATS = ["xlsx", "ods", "csv-excel-norwegian", "csv-utf8-bom"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("kind", FORMATS)
def test_every_row_of_a_messy_sheet_gets_its_exact_outcome(import_sheet, superuser, kind):
    data, name = messy_file(kind)
    report = import_sheet(data, name=name, user=superuser, dry_run=True)

    assert report.error == ""
    assert {row.number: row.kind for row in report.rows} == EXPECTED_KINDS
    problems = {row.number: [(p.column, p.value) for p in row.problems] for row in report.rejected}
    assert problems == {number: [expected] for number, expected in EXPECTED_PROBLEMS.items()}
    assert report.notices == ["Column L «Fax» is not part of the layout and was not imported."]
    assert report.summary_line() == "new: 6, updated: 0, unchanged: 0, skipped: 1, errors: 6"


def test_each_error_says_what_is_wrong_and_what_to_do(import_sheet, superuser):
    data, name = messy_file("xlsx")
    report = import_sheet(data, name=name, user=superuser, dry_run=True)
    messages = {row.number: row.problems[0].message for row in report.rejected}

    assert messages[13] == (
        "«Herøy» is the name of more than one municipality: 1515 Herøy (Møre og Romsdal) or "
        "1818 Herøy (Nordland). Write the number."
    )
    assert "«95 11 22 33 kun dagtid» is not a valid phone number" in messages[14]
    assert messages[15].startswith("Nils Uten has no phone number or e-mail. Add at least one")
    assert "«frida(at)froya.no» is not a valid e-mail address" in messages[16]
    assert messages[17].startswith("There is no municipality with the number 9999.")
    assert messages[18].startswith("«12AB» is not an HPR number")


def test_rows_show_which_municipality_they_were_read_as(import_sheet, superuser):
    data, name = messy_file("xlsx")
    report = import_sheet(data, name=name, user=superuser, dry_run=True)
    municipalities = {row.number: row.municipality for row in report.rows if row.kind != "error"}

    assert municipalities == {
        5: "5001 Trondheim",
        6: "0301 Oslo",
        8: "5043 Røyrvik",
        9: "5045 Grong",
        10: "5042 Lierne",
        11: "5044 Namsskogan",
        12: "5041 Snåsa",
    }


def test_by_default_a_sheet_with_errors_writes_nothing(import_sheet, superuser):
    data, name = messy_file("xlsx")
    report = import_sheet(data, name=name, user=superuser)

    assert not report.saved
    assert Physician.objects.count() == 0 and Appointment.objects.count() == 0 and Phone.objects.count() == 0


@pytest.mark.parametrize("kind", FORMATS)
def test_valid_rows_are_imported_on_request_with_everything_they_say(import_sheet, superuser, kind):
    data, name = messy_file(kind)
    report = import_sheet(data, name=name, user=superuser, skip_invalid=True)

    assert report.saved
    assert sorted(Physician.objects.values_list("name", flat=True)) == [
        "Ida Felles",
        "Kari Nordmann",
        "Ola Normann",
        "Per Hansen",
        "Siv Sør",
    ]
    appointments = set(Appointment.objects.values_list("municipality__number", "role", "physician__name"))
    assert appointments == {
        ("5001", Role.CHIEF_PHYSICIAN, "Kari Nordmann"),
        ("5001", Role.DEPUTY, "Per Hansen"),
        ("5001", Role.INFECTION_CONTROL_PHYSICIAN, "Kari Nordmann"),
        ("0301", Role.CHIEF_PHYSICIAN, "Ola Normann"),
        ("5043", Role.CHIEF_PHYSICIAN, "Ida Felles"),
        ("5045", Role.CHIEF_PHYSICIAN, "Ida Felles"),
        ("5042", Role.CHIEF_PHYSICIAN, "Ida Felles"),
        ("5041", Role.CHIEF_PHYSICIAN, "Siv Sør"),
    }
    phones = {(p.physician.name, p.number.as_e164, p.kind, p.note) for p in Phone.objects.select_related("physician")}
    assert phones == {
        # «Tlf. arbeid»: the header's words say these are work numbers, whatever kind the number is.
        ("Kari Nordmann", "+4773199000", "office", ""),
        ("Kari Nordmann", "+4791844552", "office", ""),
        ("Per Hansen", "+4795112233", "mobile", "kun dagtid"),
        ("Ola Normann", "+4791234567", "office", ""),
        ("Ida Felles", "+4791112222", "office", ""),
        ("Siv Sør", "+46701234567", "office", ""),
    }
    kari = Physician.objects.get(name="Kari Nordmann")
    assert kari.hpr_number == "1234567" and kari.email == "kari.nordmann@trondheim.kommune.no"
    chief = Appointment.objects.get(municipality__number="5001", role=Role.CHIEF_PHYSICIAN)
    assert chief.note == "Ny avtale fra oktober"


def test_importing_the_same_sheet_again_changes_nothing(import_sheet, superuser):
    data, name = messy_file("xlsx")
    import_sheet(data, name=name, user=superuser, skip_invalid=True)
    history_before = Physician.history.count() + Appointment.history.count() + Phone.history.count()

    again = import_sheet(data, name=name, user=superuser, skip_invalid=True)

    assert again.summary_line() == "new: 0, updated: 0, unchanged: 6, skipped: 1, errors: 6"
    assert Physician.history.count() + Appointment.history.count() + Phone.history.count() == history_before
    assert again.missing == []


def test_a_fixed_sheet_gets_every_row_in(import_sheet, superuser):
    fixed = [list(row) for row in MESSY_ROWS]
    fixed[12] = ["1818", "Herøy", "Hans Herøy", "900 00 000"]
    fixed[13] = ["5006", "Steinkjer", "Lise Feil", "95 11 22 33 (kun dagtid)"]
    fixed[14] = ["5007", "Namsos", "Nils Uten", None, "nils@namsos.kommune.no"]
    fixed[15] = ["5014", "Frøya", "Frida Frøya", None, "frida@froya.kommune.no"]
    fixed[16] = ["5021", None, "Xavier Ukjent", "918 00 001"]
    fixed[17] = ["5020", "Osen kommune", "Olav Osen", "918 00 000", "olav@osen.no", "1200034"]
    data, name = messy_file("csv-excel-norwegian", fixed)

    report = import_sheet(data, name=name, user=superuser)

    assert report.saved and report.rejected == []
    assert report.summary_line() == "new: 12, updated: 0, unchanged: 0, skipped: 1, errors: 0"
