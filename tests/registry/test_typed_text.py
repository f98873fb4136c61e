"""Control characters and direction overrides: one rule (registry.validators) refuses them wherever a
person types text, and the exports never fail on a row stored before the rule."""

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation

from imports.services import run_import
from registry import services
from registry.models import Appointment, ErrorReport, Physician
from registry.validators import validate_line, validate_text
from tests.factories import AppointmentFactory, PhysicianFactory, municipality
from tests.imports.conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

VERTICAL_TAB, RIGHT_TO_LEFT_OVERRIDE, NUL, ISOLATE, ESCAPE = "\x0b", "\u202e", "\x00", "\u2067", "\x1b"


@pytest.mark.parametrize(
    ("text", "code", "what", "position"),
    [
        (f"Kari{VERTICAL_TAB}Lege", "000B", "an invisible control character", 5),
        (f"Kari {RIGHT_TO_LEFT_OVERRIDE}egeL", "202E", "a character that changes the direction of the text", 6),
        (f"Kari{NUL}", "0000", "an invisible control character", 5),
        (f"Kari {ISOLATE}Lege", "2067", "a character that changes the direction of the text", 6),
        ("Kari\nLege", "000A", "a line break or tab", 5),
    ],
)
def test_a_line_refuses_control_characters_and_direction_overrides_saying_where(text, code, what, position):
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        validate_line(text)
    with translation.override("en"):
        assert refused.value.messages[0].startswith(f"The text has {what} (U+{code}) at character {position},")


def test_the_message_says_where_and_what_to_do_in_norwegian():
    with pytest.raises(ValidationError) as refused:
        validate_line("Ola" + VERTICAL_TAB)
    with translation.override("nb"):
        assert refused.value.messages[0] == (
            "Teksten har et usynlig kontrolltegn (U+000B) ved tegn 4, som ikke kan vises eller eksporteres trygt. "
            "Fjern det (skriv teksten på nytt i stedet for å lime den inn) og prøv igjen."
        )


@pytest.mark.parametrize(
    "text",
    ["Åse Øyen-Ærø", "Mats Ó Súilleabháin", "Lars-Göran Åström", "דוד כהן", "محمد", "O'Brien, dr. med.", ""],
)
def test_names_in_any_script_are_welcome(text):
    validate_line(text)


def test_a_note_keeps_its_line_breaks_and_tabs_but_not_other_control_characters():
    validate_text("Dagtid:\n\tman–fre\r\n")
    with pytest.raises(ValidationError):
        validate_text("Dagtid" + VERTICAL_TAB)
    with pytest.raises(ValidationError):
        validate_text("Dagtid " + RIGHT_TO_LEFT_OVERRIDE)


def test_the_write_path_refuses_it_whoever_calls_it_and_writes_nothing(today):
    physician = PhysicianFactory(name="Kari Lege")
    physician.name = "Kari" + RIGHT_TO_LEFT_OVERRIDE + "Lege"
    with pytest.raises(ValidationError) as refused:
        services.save_entries([physician], by=services.SYSTEM, reason="test")
    assert "name" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.change_physicians([physician], ["name"], by=services.SYSTEM, reason="test")
    new = Physician(name="Ny" + VERTICAL_TAB + "Lege")
    with pytest.raises(ValidationError):
        services.create_physicians([new], by=services.SYSTEM, reason="test")
    assert list(Physician.objects.values_list("name", flat=True)) == ["Kari Lege"]


def test_the_admin_refuses_it_with_the_rule_in_the_users_language(editor_trondelag, today):
    appointment = AppointmentFactory(municipality=municipality("5001"), physician__name="Kari Lege")
    physician = appointment.physician
    client = Client(headers={"Accept-Language": "nb"})
    client.force_login(editor_trondelag)
    url = reverse("admin:registry_physician_change", args=[physician.pk])
    form = client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and not isinstance(value, list)}
    data.update(name="Kari" + VERTICAL_TAB + "Lege", email="kari@example.no", hpr_number="")
    for prefix in ("phones", "appointments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})
    response = client.post(url, data)
    assert response.status_code == 200, "the form is shown again"
    assert "usynlig kontrolltegn (U+000B)" in response.content.decode()
    assert Physician.objects.get(pk=physician.pk).name == "Kari Lege"


def test_the_import_asks_instead_of_stripping(today):
    header = "Kommunenummer;Kommune;Kommuneoverlege;Telefon;E-post\n"
    data = csv_bytes(
        header + f"5045;Grong;Kari {RIGHT_TO_LEFT_OVERRIDE}egeL;91844552;\n5044;Namsskogan;Ola Lege;91844553;\n"
    )
    with translation.override("en"):
        report = run_import(data=data, file_name="kontakter.csv", user=None)
    (rejected,) = report.rejected
    assert rejected.number == 2
    assert any("U+202E" in problem.message for problem in rejected.problems)
    assert not report.saved and not Physician.objects.exists(), "an import writes what it reports, or nothing"


def test_the_import_refuses_it_in_an_xlsx_phone_cell_too(today):
    rows = [
        ["Kommunenummer", "Kommune", "Kommuneoverlege", "Telefon"],
        ["5045", "Grong", "Kari Lege", "918" + ISOLATE + "44552"],
    ]
    with translation.override("en"):
        report = run_import(data=xlsx_bytes(rows), file_name="kontakter.xlsx", user=None)
    (rejected,) = report.rejected
    assert any("U+2067" in problem.message for problem in rejected.problems)


def test_a_report_from_the_public_is_refused_with_the_form_again(client, today):
    from registry.forms import ErrorReportForm

    form = ErrorReportForm({"message": "Nummeret" + VERTICAL_TAB + " svarer ikke", "reporter_email": ""})
    assert not form.is_valid() and "message" in form.errors
    with pytest.raises(ValidationError):
        services.report_error(subject=municipality("5045"), message="Feil" + RIGHT_TO_LEFT_OVERRIDE)
    assert not ErrorReport.objects.exists()


@pytest.fixture
def stored_before_the_rule(today):
    """A name with a control character and one with an override, as rows stored before the rule hold them
    (written past the write path on purpose: the exports must survive what is already in the database)."""
    first = AppointmentFactory(municipality=municipality("5045"), physician__name="Kari Lege")
    second = AppointmentFactory(municipality=municipality("5044"), physician__name="Ola Lege")
    Physician.objects.filter(pk=first.physician_id).update(name="Kari" + VERTICAL_TAB + "Lege")
    Physician.objects.filter(pk=second.physician_id).update(name="Ola " + RIGHT_TO_LEFT_OVERRIDE + "egeL")
    # Not NUL: PostgreSQL cannot store it at all (a typed one is refused by the rule, see above).
    Appointment.objects.filter(pk=first.pk).update(note="Note" + ESCAPE)
    return first, second


@pytest.mark.parametrize("url", ["/eksport.csv", "/eksport.xlsx"])
def test_the_public_exports_never_fail_on_stored_control_characters(client, stored_before_the_rule, url):
    response = client.get(url)
    assert response.status_code == 200
    if url.endswith(".xlsx"):
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        text = "\n".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)
    else:
        text = response.content.decode("utf-8-sig")
    assert "Kari\ufffdLege" in text and "Ola \ufffdegeL" in text, "shown as U+FFFD, so nobody is misled"
    assert VERTICAL_TAB not in text and RIGHT_TO_LEFT_OVERRIDE not in text and ESCAPE not in text


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_admin_export_never_fails_on_stored_control_characters(superuser, stored_before_the_rule, file_format):
    client = Client()
    client.force_login(superuser)
    response = client.get(reverse("admin:imports_importlog_export") + f"?format={file_format}")
    assert response.status_code == 200
    if file_format == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
        text = "\n".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)
    else:
        text = response.content.decode("utf-8-sig")
    assert "Kari\ufffdLege" in text and VERTICAL_TAB not in text and RIGHT_TO_LEFT_OVERRIDE not in text
