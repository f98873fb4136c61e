"""The current result as CSV and XLSX: opens in a spreadsheet, includes vacancies, never runs a formula."""

import csv
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from registry.models import Physician
from registry.spreadsheets import unneutralise
from tests.web.conftest import PUBLIC_NUMBER, restricted_forms

pytestmark = pytest.mark.django_db


def csv_rows(response):
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff"), "Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff")), delimiter=";"))


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[cell.value or "" for cell in row] for row in sheet.iter_rows()], sheet


def test_csv_is_an_attachment_with_one_row_per_contact(client, demo):
    response = client.get(reverse("registry:export-csv"), {"q": "royrvik"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="kommuneoverleger-')
    header, *rows = csv_rows(response)
    assert header[:3] == ["Municipality number", "Municipality", "Parallel names"]
    assert [(row[0], row[5], row[6]) for row in rows] == [
        ("5043", "Chief municipal physician", "Demo Kari Fiktivsen"),
        ("5043", "Deputy", "Demo Nils Oppdiktet"),
    ]
    assert rows[0][2] == "Raarvihke" and rows[0][8] == PUBLIC_NUMBER
    assert rows[0][9] == (
        "Demo Indre Namdal legetjeneste (municipal task community): Grong, Lierne, Namsskogan, Røyrvik"
    )
    assert rows[0][14] == "kommuneoverlege@indrenamdal.example.no"
    assert rows[0][15] == ""  # the arrangement's 24/7 number is for the authorities only
    assert rows[0][17] == ""  # so is the legevakt's direct number


def test_export_follows_the_search_and_filters(client, demo):
    response = client.get(reverse("registry:export-csv"), {"office": "nordland", "missing": "chief_physician"})
    _, *rows = csv_rows(response)
    numbers = {row[0] for row in rows}
    assert "1804" in numbers and all(number.startswith("18") for number in numbers)
    bodo = next(row for row in rows if row[0] == "1804")
    assert bodo[5] == "Chief municipal physician" and bodo[6] == "" and bodo[13] == "No chief physician registered"


def test_whole_list_export_has_every_municipality(client, demo):
    _, *rows = csv_rows(client.get(reverse("registry:export-csv")))
    assert len({row[0] for row in rows}) == 357


@pytest.mark.parametrize("url", [reverse("registry:export-csv"), reverse("registry:export-xlsx")])
def test_exports_never_contain_restricted_numbers_for_anonymous(client, demo, url):
    content = client.get(url)
    text = (
        content.content.decode("utf-8")
        if url.endswith(".csv")
        else " ".join(str(v) for row in xlsx_rows(content)[0] for v in row)
    )
    assert PUBLIC_NUMBER in text
    for number in restricted_forms():
        assert number not in text


def test_reader_export_includes_restricted_numbers(reader_client, demo):
    _, *rows = csv_rows(reader_client.get(reverse("registry:export-csv"), {"q": "5043"}))
    assert "40 00 01 02" in rows[0][8]


def test_xlsx_opens_with_text_cells_and_the_same_rows_as_csv(client, demo):
    response = client.get(reverse("registry:export-xlsx"), {"q": "namsskogan"})
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows, sheet = xlsx_rows(response)
    as_csv = csv_rows(client.get(reverse("registry:export-csv"), {"q": "namsskogan"}))
    # CSV cells that could start a formula carry a leading apostrophe; XLSX cells are typed text instead.
    assert rows == [[unneutralise(value) for value in row] for row in as_csv]
    assert "'+46 70 174 06 10 (svensk mobil)" in as_csv[2]
    assert all(cell.data_type == "s" for row in sheet.iter_rows() for cell in row if cell.value is not None)


def test_a_value_that_looks_like_a_formula_is_never_run(client, demo):
    Physician.objects.filter(name="Demo Kari Fiktivsen").update(name='=HYPERLINK("http://evil.example","x")')
    _, *rows = csv_rows(client.get(reverse("registry:export-csv"), {"q": "5043"}))
    assert rows[0][6] == '\'=HYPERLINK("http://evil.example","x")'
    xlsx, sheet = xlsx_rows(client.get(reverse("registry:export-xlsx"), {"q": "5043"}))
    assert xlsx[1][6].startswith("=HYPERLINK") and sheet.cell(row=2, column=7).data_type == "s"


def test_export_with_an_unknown_filter_explains_what_to_do(client, db):
    response = client.get(reverse("registry:export-csv"), {"county": "99"})
    assert response.status_code == 400
    assert "The export was not made" in response.content.decode() and "Correct the filters" in response.content.decode()
