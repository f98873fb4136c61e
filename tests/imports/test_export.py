"""The export: the import's own layout, safe in a spreadsheet program, and it imports back with no changes."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth.models import Permission

from imports.services import export_file, export_rows
from registry.models import Role, Visibility
from registry.phones import parse_phone
from tests.factories import AppointmentFactory, PhoneFactory, PhysicianFactory, UserFactory, municipality


@pytest.fixture
def registry(db, today):
    """Grong and Lierne share a chief physician; Trondheim has two deputies; a Swedish number; a formula."""
    ida = PhysicianFactory(name="Ida Felles", email="ida@namdal.no", hpr_number="1234567")
    PhoneFactory(physician=ida, number=parse_phone("911 12 222"), note="kun dagtid")
    PhoneFactory(physician=ida, number=parse_phone("+46 70 123 45 67"))
    PhoneFactory(physician=ida, number=parse_phone("73 19 90 00"), visibility=Visibility.AUTHORITIES)
    for number in ("5045", "5042"):
        AppointmentFactory(physician=ida, municipality=municipality(number), note="Interkommunalt samarbeid")
    evil = PhysicianFactory(name='=HYPERLINK("http://example.no")', email="", hpr_number=None)
    PhoneFactory(physician=evil, number=parse_phone("92223333"))
    AppointmentFactory(physician=evil, municipality=municipality("5001"), role=Role.DEPUTY, note="@SUM(1)")
    second = PhysicianFactory(name="Per Vara", email="per@trondheim.no", hpr_number=None)
    AppointmentFactory(physician=second, municipality=municipality("5001"), role=Role.DEPUTY)
    AppointmentFactory(municipality=municipality("5001"), role=Role.DEPUTY, end_date="2025-01-01")
    return ida


def rows_of(data, file_format):
    if file_format == "csv":
        text = data.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=";"))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    return [["" if v is None else v for v in row] for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_export_writes_the_import_layout(registry, file_format):
    data, _content_type = export_file(None, file_format)
    rows = rows_of(data, file_format)

    assert rows[0][:6] == ["Kommunenummer", "Kommune", "Kommuneoverlege", "Telefon", "E-post", "HPR-nummer"]
    grong = next(row for row in rows if row[0] == "5045")
    assert grong[1:6] == [
        "Grong",
        "Ida Felles",
        "91 11 22 22 (kun dagtid) / +46 70 123 45 67 / 73 19 90 00",
        "ida@namdal.no",
        "1234567",
    ]
    assert grong[14] == "Interkommunalt samarbeid"
    # One municipality per row, all 357 of them (vacancies too), and a second row for a second deputy.
    assert len([row for row in rows[1:] if row[0] == "5001"]) == 2
    assert len({row[0] for row in rows[1:]}) == 357
    # Oslo's row, then a row for each of the 15 districts that run health services: a bydelsoverlege's vacancy shows.
    oslo = [row for row in rows[1:] if row[0] == "0301"]
    assert [row[15] for row in oslo][:3] == ["", "Gamle Oslo", "Grünerløkka"] and len(oslo) == 16
    assert "Sentrum" not in {row[15] for row in oslo}, "a statistical unit holds no appointments"


def test_csv_cells_that_would_start_a_formula_are_neutralised(registry):
    data, _content_type = export_file(None, "csv")
    trondheim = [row for row in rows_of(data, "csv") if row[0] == "5001"]

    names = {row[6] for row in trondheim}
    assert '\'=HYPERLINK("http://example.no")' in names
    assert "'@SUM(1)" in {row[14] for row in trondheim}
    grong = next(row for row in rows_of(data, "csv") if row[0] == "5045")
    assert "'+46" not in grong[3]  # a number inside a cell stays readable


def test_xlsx_cells_are_text_never_formulas(registry):
    data, _content_type = export_file(None, "xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active

    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value is not None)


def test_numbers_for_authorities_only_are_left_out_for_someone_who_may_not_see_them(registry):
    exporter = UserFactory(username="eksportor", is_staff=True)
    exporter.user_permissions.add(Permission.objects.get(codename="export_importlog"))
    exporter = type(exporter).objects.get(pk=exporter.pk)

    assert "73 19 90 00" not in "".join(row.chief_phone for row in export_rows(exporter))
    assert "73 19 90 00" in "".join(row.chief_phone for row in export_rows(None))


def test_an_editor_exports_their_own_region(registry, editor_trondelag):
    numbers = {row.municipality_number for row in export_rows(editor_trondelag)}

    assert "5045" in numbers and "0301" not in numbers and len(numbers) == 38


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_the_export_imports_back_with_no_changes(registry, import_sheet, superuser, file_format):
    data, _content_type = export_file(None, file_format)
    report = import_sheet(data, name=f"eksport.{file_format}", user=superuser, end_missing=True)

    counts = report.counts
    assert report.notices == [] and report.rejected == []
    assert counts["new"] == 0 and counts["updated"] == 0 and counts["unchanged"] == 4
    assert counts["skipped"] == 357 - 3 + 15  # the vacancies, Oslo's districts' too
    assert report.missing == [] and report.ended == []


def test_the_export_is_a_fixed_number_of_queries(registry, django_assert_max_num_queries):
    with django_assert_max_num_queries(8):
        export_rows(None)
