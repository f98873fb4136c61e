"""Files in: formats by content, encodings, delimiters, and the limits that protect the server."""

import io
import zipfile

import openpyxl.xml
import pytest
from django.utils import translation

from imports import sheets
from imports.sheets import SheetError, read_sheet
from tests.imports.conftest import ods_bytes, xlsx_bytes

ROWS = [["Kommunenummer", "Kommune", "Kommuneoverlege", "Telefon"], ["5001", "Trondheim", "Kåre Ødegård", "918 44 552"]]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def cells(sheet):
    return [[normalise_cell(c) for c in row] for _number, row in sheet.rows]


def normalise_cell(value):
    from imports.normalise import cell_text

    return cell_text(value)


@pytest.mark.parametrize(
    "data, name",
    [
        (
            "Kommunenummer;Kommune;Kommuneoverlege;Telefon\r\n5001;Trondheim;Kåre Ødegård;918 44 552\r\n".encode(),
            "a.csv",
        ),
        ("Kommunenummer,Kommune,Kommuneoverlege,Telefon\n5001,Trondheim,Kåre Ødegård,918 44 552\n".encode(), "a.csv"),
        (
            "\ufeffKommunenummer;Kommune;Kommuneoverlege;Telefon\n5001;Trondheim;Kåre Ødegård;918 44 552\n".encode(),
            "a.CSV",
        ),
        (
            "Kommunenummer;Kommune;Kommuneoverlege;Telefon\n5001;Trondheim;Kåre Ødegård;918 44 552\n".encode("cp1252"),
            "a.csv",
        ),
        (
            "Kommunenummer\tKommune\tKommuneoverlege\tTelefon\n5001\tTrondheim\tKåre Ødegård\t918 44 552\n".encode(),
            "a.csv",
        ),
        (xlsx_bytes(ROWS), "a.xlsx"),
        (ods_bytes(ROWS), "a.ods"),
    ],
    ids=["csv-semicolon", "csv-comma", "csv-bom", "csv-windows-1252", "csv-tab", "xlsx", "ods"],
)
def test_every_format_reads_to_the_same_rows(data, name):
    assert cells(read_sheet(data, name)) == ROWS


def test_a_delimiter_inside_quotes_stays_in_its_cell():
    data = b'Kommune;Kommuneoverlege;Telefon\nTrondheim;"Nordmann; Kari";"918 44 552; 73 19 90 00"\n'
    assert cells(read_sheet(data, "a.csv"))[1] == ["Trondheim", "Nordmann; Kari", "918 44 552; 73 19 90 00"]


def test_blank_rows_are_left_out_and_row_numbers_kept():
    data = xlsx_bytes([["Tittel"], [], ROWS[0], [], [None, None], ROWS[1]])
    assert [number for number, _cells in read_sheet(data, "a.xlsx").rows] == [1, 3, 6]


def test_the_first_sheet_with_a_header_is_read():
    data = xlsx_bytes([["Forklaring til arket"]], title="Les meg", extra_sheets=[("Kontakter", ROWS)])
    sheet = read_sheet(data, "a.xlsx")
    assert sheet.sheet_name == "Kontakter" and cells(sheet) == ROWS


@pytest.mark.parametrize(
    "data, name, message",
    [
        (b"", "a.csv", "The file is empty."),
        (b"Kommune\nOslo\n", "a.txt", "Only .xlsx, .ods and .csv files can be imported"),
        (b"Kommune\nOslo\n", "a.yaml", "Only .xlsx, .ods and .csv files can be imported"),
        (sheets.OLE_MAGIC + b"\x00" * 100, "a.xls", "Only .xlsx, .ods and .csv"),
        (sheets.OLE_MAGIC + b"\x00" * 100, "a.xlsx", "old Excel format (.xls)"),
        (xlsx_bytes(ROWS), "a.csv", "named .csv but is really a .xlsx file"),
        (ods_bytes(ROWS), "a.xlsx", "named .xlsx but is really a .ods file"),
        (b"Kommune\nOslo\n", "a.xlsx", "named .xlsx but is really a .csv file"),
        (b"PK\x03\x04 not really a zip", "a.xlsx", "damaged"),
        ("Kommune\nOslo\n".encode("utf-16"), "a.csv", "UTF-16"),
        (b"Kommune\x00\nOslo\n", "a.csv", "not a text file"),
        (b"Kommune\n\x81\x8d\x8f\n", "a.csv", "cannot be read as UTF-8 or Windows-1252"),
    ],
)
def test_a_file_that_is_not_a_contact_sheet_is_refused_with_what_to_do(data, name, message):
    with pytest.raises(SheetError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        read_sheet(data, name)


def test_a_zip_that_is_neither_xlsx_nor_ods_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    with pytest.raises(SheetError, match="not a spreadsheet"):
        read_sheet(out.getvalue(), "a.xlsx")


def test_a_file_over_5_mb_is_refused_before_it_is_read():
    data = b"Kommune;Kommuneoverlege\n" + b"Oslo;Kari\n" * 600_000
    with pytest.raises(SheetError, match="limit is 5 MB"):
        read_sheet(data, "a.csv")


def test_a_sheet_over_20000_rows_is_refused(monkeypatch):
    data = ("Kommune;Kommuneoverlege;Telefon\n" + "Oslo;Kari;91844552\n" * 20_001).encode()
    with pytest.raises(SheetError, match="more than 20,000 rows"):
        read_sheet(data, "a.csv")


def test_a_sheet_of_exactly_20000_rows_is_read():
    data = ("Kommune;Kommuneoverlege;Telefon\n" + "Oslo;Kari;91844552\n" * 20_000).encode()
    assert len(read_sheet(data, "a.csv").rows) == 20_001


def zip_bomb(*, entries=None, ratio_bytes=None):
    """Return an .xlsx-looking zip: many entries, or one entry that unpacks to `ratio_bytes` of zeros."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(entries or 0):
            archive.writestr(f"xl/media/{i}.bin", "x")
        if ratio_bytes:
            archive.writestr("xl/worksheets/sheet1.xml", b"0" * ratio_bytes)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [zip_bomb(ratio_bytes=20 * 1024 * 1024), zip_bomb(entries=600)],
    ids=["unpacks-1000-times-its-size", "600-entries"],
)
def test_a_zip_bomb_is_refused_before_it_is_unpacked(data, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the parser must not see this file")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(SheetError, match="unpacks to far more than a contact list needs"):
        read_sheet(data, "a.xlsx")


def test_a_zip_declaring_more_than_100_mb_unpacked_is_refused(monkeypatch):
    monkeypatch.setattr(sheets, "MAX_COMPRESSION_RATIO", 10**9)
    data = zip_bomb(ratio_bytes=101 * 1024 * 1024)
    assert len(data) < sheets.MAX_FILE_BYTES
    with pytest.raises(SheetError, match="unpacks to far more"):
        read_sheet(data, "a.xlsx")


def test_a_real_workbook_is_well_within_the_zip_limits():
    rows = [ROWS[0]] + [["5001", "Trondheim", f"Lege {i}", "918 44 552"] for i in range(5000)]
    archive = zipfile.ZipFile(io.BytesIO(xlsx_bytes(rows)))
    unpacked = sum(e.file_size for e in archive.infolist())
    packed = sum(e.compress_size for e in archive.infolist())
    assert unpacked < sheets.MAX_COMPRESSION_RATIO * packed / 3


def test_xlsx_xml_is_parsed_through_defusedxml():
    assert openpyxl.xml.DEFUSEDXML is True


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE office:document-content [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet>
<table:table table:name="A"><table:table-row><table:table-cell office:value-type="string">
<text:p>&lol3;</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body>
</office:document-content>"""


def with_content(data, content):
    """Return the ods `data` with its content.xml replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for entry in source.infolist():
            archive.writestr(entry, content if entry.filename == "content.xml" else source.read(entry.filename))
    return out.getvalue()


def test_an_ods_with_xml_entities_is_refused():
    with pytest.raises(SheetError, match="XML that is not allowed"):
        read_sheet(with_content(ods_bytes(ROWS), BILLION_LAUGHS), "a.ods")


def test_an_xlsx_with_xml_entities_is_refused():
    data = xlsx_bytes(ROWS)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    sheet_xml = BILLION_LAUGHS.replace(b"office:document-content", b"worksheet")
    with zipfile.ZipFile(out, "w") as archive:
        for entry in source.infolist():
            is_sheet = entry.filename == "xl/worksheets/sheet1.xml"
            archive.writestr(entry, sheet_xml if is_sheet else source.read(entry.filename))
    with pytest.raises(SheetError, match="XML that is not allowed"):
        read_sheet(out.getvalue(), "a.xlsx")


@pytest.mark.parametrize(
    "name, shown",
    [
        ("../../etc/passwd.csv", "passwd.csv"),
        ("C:\\Users\\kari\\kontakter.xlsx", "kontakter.xlsx"),
        ("kontakter\x00.csv", "kontakter.csv"),
    ],
)
def test_the_uploads_name_is_only_ever_a_name(name, shown):
    assert sheets.display_name(name) == shown
