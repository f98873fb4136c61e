"""`import_contacts` and `export_contacts`: scripted and bulk loads, with the same rules as the admin."""

import io

import openpyxl
import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from imports.models import ImportLog
from registry.models import Appointment, Physician
from tests.factories import AppointmentFactory, municipality

GOOD = (
    "Kommunenummer;Kommune;Kommuneoverlege;Telefon\n5045;Grong;Ida Felles;91112222\n5042;Lierne;Ida Felles;91112222\n"
)
WITH_ERRORS = GOOD + "5044;Namsskogan;Nils Uten;\n4601;Bergen;Berit Berg;91844553\n"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def write(tmp_path):
    def write(text, name="kontakter.csv"):
        path = tmp_path / name
        path.write_bytes(text.encode("cp1252"))
        return path

    return write


def run(*args):
    """Run import_contacts; return (exit code, printed lines)."""
    out = io.StringIO()
    try:
        call_command("import_contacts", *[str(a) for a in args], stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue().splitlines()


def test_a_clean_sheet_is_imported_and_exits_0(db, today, write):
    code, lines = run(write(GOOD))

    assert code == 0 and lines[-1] == "new: 2, updated: 0, unchanged: 0, skipped: 0, errors: 0"
    assert Appointment.objects.count() == 2 and Physician.objects.count() == 1
    log = ImportLog.objects.get()
    assert (log.source, log.user, log.saved, log.rows_new) == ("command", None, True, 2)


def test_importing_it_again_reports_everything_unchanged(db, today, write):
    run(write(GOOD))
    code, lines = run(write(GOOD))

    assert code == 0 and lines[-1] == "new: 0, updated: 0, unchanged: 2, skipped: 0, errors: 0"


def test_errors_are_printed_with_row_and_column_and_nothing_is_saved(db, today, write):
    code, lines = run(write(WITH_ERRORS))

    assert code == 1
    assert lines[-1] == "new: 3, updated: 0, unchanged: 0, skipped: 0, errors: 1"
    assert lines[0].startswith("Row 4, column D «Telefon», value «»: Nils Uten has no phone number or e-mail.")
    assert "Nothing was saved, because rows have errors." in lines[-2]
    assert Physician.objects.count() == 0


def test_with_a_user_exactly_that_accounts_region_applies(db, today, write, editor_vestland):
    code, lines = run(write(WITH_ERRORS), "--user", editor_vestland.username, "--skip-invalid")

    assert code == 1 and lines[-1] == "new: 1, updated: 0, unchanged: 0, skipped: 0, errors: 3"
    assert list(Appointment.objects.values_list("municipality__number", flat=True)) == ["4601"]
    assert ImportLog.objects.get().user == editor_vestland


def test_a_user_without_import_permission_is_refused(db, write, reader):
    with pytest.raises(CommandError, match="may not import"):
        call_command("import_contacts", str(write(GOOD)), "--user", reader.username)


def test_an_unknown_user_is_refused(db, write):
    with pytest.raises(CommandError, match="no active user"):
        call_command("import_contacts", str(write(GOOD)), "--user", "nobody")


def test_a_dry_run_reports_and_saves_nothing(db, today, write):
    code, lines = run(write(GOOD), "--dry-run")

    assert code == 0 and "Dry run: nothing was saved." in lines
    assert lines[-1] == "new: 2, updated: 0, unchanged: 0, skipped: 0, errors: 0"
    assert Physician.objects.count() == 0 and ImportLog.objects.count() == 0


def test_skip_invalid_saves_the_valid_rows_and_writes_the_rejects(db, today, write, tmp_path):
    rejects = tmp_path / "avviste.xlsx"
    code, lines = run(write(WITH_ERRORS), "--skip-invalid", "--rejects", rejects)

    assert code == 1 and lines[-1] == "new: 3, updated: 0, unchanged: 0, skipped: 0, errors: 1"
    assert Appointment.objects.count() == 3
    sheet = openpyxl.load_workbook(rejects).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["Kommunenummer", "Kommune", "Kommuneoverlege", "Telefon", "Rad i opprinnelig ark", "Feil"]
    assert rows[1][:5] == ["5044", "Namsskogan", "Nils Uten", None, "4"]
    assert rows[1][5].startswith("D «Telefon»: Nils Uten has no phone number or e-mail.")


def test_the_rejects_file_imports_once_its_rows_are_fixed(db, today, write, tmp_path):
    rejects = tmp_path / "avviste.xlsx"
    run(write(WITH_ERRORS), "--skip-invalid", "--rejects", rejects)
    workbook = openpyxl.load_workbook(rejects)
    workbook.active["D2"] = "93334444"
    workbook.save(rejects)

    code, lines = run(rejects)

    assert code == 0 and lines[-1] == "new: 1, updated: 0, unchanged: 0, skipped: 0, errors: 0"


def test_end_missing_ends_what_the_sheet_leaves_out(db, today, write):
    gone = AppointmentFactory(municipality=municipality("5044"))
    code, lines = run(write(GOOD), "--end-missing")

    gone.refresh_from_db()
    assert code == 0 and gone.end_date == today
    assert any(line.startswith("Ended (as of today): 5044 Namsskogan") for line in lines)


def test_a_file_that_cannot_be_read_exits_1_with_the_reason(db, write):
    code, lines = run(write("just some text\n", "notes.csv"))

    assert code == 1 and lines[0].startswith("Nothing was imported: No header row found")
    assert lines[-1] == "new: 0, updated: 0, unchanged: 0, skipped: 0, errors: 1"


def test_the_export_command_writes_what_import_reads(db, today, write, tmp_path):
    run(write(GOOD))
    target = tmp_path / "eksport.xlsx"
    call_command("export_contacts", str(target), stdout=io.StringIO())

    code, lines = run(target)
    assert code == 0 and lines[-1].startswith("new: 0, updated: 0, unchanged: 2,")


def test_the_export_command_refuses_other_endings(db, tmp_path):
    with pytest.raises(CommandError, match=".xlsx or .csv"):
        call_command("export_contacts", str(tmp_path / "x.json"))
