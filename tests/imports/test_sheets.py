"""Files in: formats by content, encodings, delimiters, and the limits that protect the server."""

import datetime
import io
import zipfile

import openpyxl.xml
import pytest
from django.utils import translation
from openpyxl.reader.strings import read_string_table

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

    monkeypatch.setattr(sheets, "_load_workbook", never)
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


# Bounded memory: every part is capped before it is parsed, and the big ones are streamed.

CAP = 64 * 1024
OFFICE_NS = 'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
TABLE_NS = 'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
TEXT_NS = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'


def content_xml(tables):
    """Return an .ods content.xml holding `tables`: {name: table body XML}."""
    body = "".join(f'<table:table table:name="{name}">{rows}</table:table>' for name, rows in tables.items())
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {OFFICE_NS} {TABLE_NS} {TEXT_NS}>'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>"
    ).encode()


def ods_with(tables):
    return with_content(ods_bytes(ROWS), content_xml(tables))


def with_part(data, name, content):
    """Return the zip `data` with the part `name` replaced (or added)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for entry in source.infolist():
            if entry.filename != name:
                archive.writestr(entry, source.read(entry.filename))
        archive.writestr(name, content)
    return out.getvalue()


def header_and(rows):
    """Table rows: the layout's header, then `rows` (XML)."""
    cell = '<table:table-cell office:value-type="string"><text:p>{}</text:p></table:table-cell>'
    cells = "".join(cell.format(header) for header in ROWS[0])
    return f"<table:table-row>{cells}</table:table-row>{rows}"


@pytest.fixture
def small_cap(settings):
    settings.IMPORT_MAX_XML_PART_BYTES = CAP
    return CAP


@pytest.fixture
def no_parser(monkeypatch):
    """Fail the test if any parser is handed the file."""

    def never(*args, **kwargs):
        raise AssertionError("no parser may see a part over the cap")

    monkeypatch.setattr(sheets, "_load_workbook", never)
    monkeypatch.setattr(sheets, "_expat_parser", never)


def big_blank_rows(size):
    row = '<table:table-row table:style-name="ro1"><table:table-cell/></table:table-row>'
    return row * (size // len(row) + 1)


def test_an_ods_whose_content_unpacks_past_the_cap_is_refused_before_parsing(small_cap, no_parser):
    data = ods_with({"Ark1": header_and(big_blank_rows(CAP))})
    with pytest.raises(SheetError, match="The part «content.xml» of the file unpacks to 0.1 MB; each part may be"):
        read_sheet(data, "a.ods")


def test_an_xlsx_whose_shared_strings_unpack_past_the_cap_are_refused_before_parsing(small_cap, no_parser):
    strings = "<sst>" + "<si><t>Kommune</t></si>" * (CAP // 20) + "</sst>"
    data = with_part(xlsx_bytes(ROWS), "xl/sharedStrings.xml", strings)
    with pytest.raises(SheetError, match="«xl/sharedStrings.xml»"):
        read_sheet(data, "a.xlsx")


def test_the_cap_is_checked_when_the_file_is_uploaded_too(small_cap, no_parser):
    data = ods_with({"Ark1": header_and(big_blank_rows(CAP))})
    with pytest.raises(SheetError, match="each part may be at most 0.1 MB"):
        sheets.detect_format(data, "a.ods")


def test_the_cap_is_a_setting_from_the_environment():
    from tests.ops.test_production_settings import production_settings

    assert production_settings("IMPORT_MAX_XML_PART_BYTES")["IMPORT_MAX_XML_PART_BYTES"] == 20 * 1024 * 1024
    configured = production_settings("IMPORT_MAX_XML_PART_BYTES", REGISTRY_IMPORT_MAX_XML_PART_MB="3")
    assert configured["IMPORT_MAX_XML_PART_BYTES"] == 3 * 1024 * 1024


class FakeArchive:
    """A zip whose part yields more bytes than it declared (zipfile itself would stop at the declared size)."""

    def __init__(self, content):
        self.content = content

    def open(self, name):
        return io.BytesIO(self.content)


def test_nothing_past_the_cap_reaches_the_parser_whatever_the_zip_declares(small_cap):
    fed = []

    class Recorder:
        def Parse(self, chunk, final):  # noqa: N802 (expat's name)
            fed.append(len(chunk))

    with pytest.raises(SheetError, match="each part may be at most"):
        for _chunk in sheets._feed(Recorder(), FakeArchive(b"<a>" + b" " * (3 * CAP)), "content.xml"):
            pass
    assert 0 < sum(fed) <= CAP


def test_a_zip_that_declares_less_than_it_holds_is_read_no_further_than_declared(monkeypatch):
    data = ods_with({"Ark1": header_and(big_blank_rows(200_000))})
    declared = 50_000
    # Shrink the declared size of content.xml in the central directory, as a forged file would.
    archive = zipfile.ZipFile(io.BytesIO(data))
    real = archive.getinfo("content.xml").file_size
    forged = data.replace(real.to_bytes(4, "little"), declared.to_bytes(4, "little"))
    read = []
    original = zipfile.ZipExtFile.read

    def counting(self, n=-1):
        chunk = original(self, n)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting)
    with pytest.raises(SheetError, match="damaged"):
        read_sheet(forged, "a.ods")
    assert sum(read) <= declared + 200  # the mimetype entry is read too


# The streaming .ods reader keeps the cell semantics of the odfpy reading it replaced.


def odfpy_rows(data):
    """The rows as the former reader got them from odfpy's whole-document model (the oracle)."""
    from odf import teletype
    from odf.opendocument import load
    from odf.table import CoveredTableCell, Table, TableCell, TableRow

    def value(cell):
        kind = cell.getAttribute("valuetype")
        if kind in ("float", "percentage", "currency"):
            return float(cell.getAttribute("value"))
        if kind == "date":
            return cell.getAttribute("datevalue")
        if kind == "boolean":
            return cell.getAttribute("booleanvalue")
        paragraphs = [teletype.extractText(p) for p in cell.childNodes if getattr(p, "qname", (None, ""))[1] == "p"]
        return "\n".join(paragraphs) if paragraphs else None

    names = {TableCell().qname, CoveredTableCell().qname}
    out = []
    for table in load(io.BytesIO(data)).spreadsheet.getElementsByType(Table):
        rows, number = [], 0
        for row in table.getElementsByType(TableRow):
            repeat = int(row.getAttribute("numberrowsrepeated") or 1)
            cells = []
            for cell in row.childNodes:
                if cell.qname in names:
                    cells += [value(cell)] * min(int(cell.getAttribute("numbercolumnsrepeated") or 1), 101)
            if sheets.is_blank(cells):
                number += repeat
                continue
            for _copy in range(repeat):
                number += 1
                rows.append((number, cells))
        out.append((table.getAttribute("name"), rows))
    return out


def streamed_rows(data):
    return [(name, list(rows)) for name, rows in sheets._ods_sheets(data)]


RICH_TABLES = {
    "Forklaring": '<table:table-row><table:table-cell office:value-type="string"><text:p>Les meg</text:p>'
    "</table:table-cell></table:table-row>",
    "Kontakter": (
        '<table:table-column table:number-columns-repeated="3"/>'
        "<table:table-header-rows>" + header_and("") + "</table:table-header-rows>"
        '<table:table-row table:number-rows-repeated="3"><table:table-cell table:number-columns-repeated="4"/>'
        "</table:table-row>"
        "<table:table-row-group><table:table-row>"
        '<table:table-cell office:value-type="float" office:value="5045"><text:p>5 045</text:p></table:table-cell>'
        '<table:table-cell office:value-type="string" table:number-columns-spanned="2"><text:p>Grong  '
        '<text:s/>og<text:s text:c="3"/>omegn</text:p><text:p>linje<text:tab/>to<text:line-break/>tre'
        '</text:p></table:table-cell><table:covered-table-cell office:value-type="string"><text:p>skjult</text:p>'
        '</table:covered-table-cell><table:table-cell office:value-type="percentage" office:value="0.25"/>'
        '<table:table-cell office:value-type="date" office:date-value="2026-11-23"/>'
        '<table:table-cell office:value-type="boolean" office:boolean-value="true"/>'
        '<table:table-cell office:value-type="time" office:time-value="PT08H"><text:p>08:00</text:p>'
        "</table:table-cell><table:table-cell><text:p><text:span>Kå</text:span>re <text:a>Ø</text:a></text:p>"
        "<office:annotation><text:p>ikke med</text:p></office:annotation></table:table-cell>"
        '<table:table-cell table:number-columns-repeated="3"/>'
        '<table:table-cell office:value-type="currency" office:value="-1.5"/></table:table-row></table:table-row-group>'
        '<table:table-row table:number-rows-repeated="2"><table:table-cell office:value-type="string">'
        "<text:p>to ganger</text:p></table:table-cell></table:table-row>"
        '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
        "<table:table-row><table:table-cell><text:p/></table:table-cell>"
        '<table:table-cell office:value-type="string"><text:p>siste</text:p></table:table-cell></table:table-row>'
    ),
}


def test_the_streaming_ods_reader_reads_what_odfpy_read():
    data = ods_with(RICH_TABLES)
    expected = odfpy_rows(data)
    assert streamed_rows(data) == expected
    # What that is, spelled out for the interesting cells.
    (_number, cells) = dict(expected)["Kontakter"][1]
    assert cells[:5] == [5045.0, "Grong   og   omegn\nlinje\tto\ntre", "skjult", 0.25, "2026-11-23"]
    assert cells[5:8] == ["true", "08:00", "Kåre Ø"] and cells[8:] == [None, None, None, -1.5]
    assert [number for number, _cells in dict(expected)["Kontakter"]] == [1, 5, 6, 7, 1048008]


def test_the_streaming_ods_reader_reads_the_test_builders_sheets_as_odfpy():
    data = ods_bytes([ROWS[0], [], ROWS[1], [None, 5045, "x"]])
    assert streamed_rows(data) == odfpy_rows(data)


def test_the_first_ods_table_with_a_header_is_read():
    sheet = read_sheet(ods_with(RICH_TABLES), "a.ods")
    assert sheet.sheet_name == "Kontakter" and sheet.rows[0] == (1, ROWS[0])


def test_an_ods_row_repeated_a_million_times_gives_no_more_than_the_row_limit():
    data = ods_with({"Ark1": header_and('<table:table-row table:number-rows-repeated="1000000">'
                                       '<table:table-cell office:value-type="string"><text:p>x</text:p>'
                                       "</table:table-cell></table:table-row>")})  # fmt: skip
    assert len(streamed_rows(data)[0][1]) == sheets.MAX_ROWS + 31


def test_spaces_written_as_counts_cannot_blow_up_an_ods(small_cap):
    cell = '<table:table-cell office:value-type="string"><text:p><text:s text:c="30000"/></text:p></table:table-cell>'
    data = ods_with({"Ark1": header_and(f"<table:table-row>{cell * 3}</table:table-row>")})
    with pytest.raises(SheetError, match="far more text than a contact list needs"):
        read_sheet(data, "a.ods")


def test_an_ods_cell_holds_at_most_excels_number_of_characters():
    cell = '<table:table-cell office:value-type="string"><text:p>' + "x" * 40_000 + "</text:p></table:table-cell>"
    data = ods_with({"Ark1": header_and(f"<table:table-row>{cell}</table:table-row>")})
    assert len(streamed_rows(data)[0][1][1][1][0]) == sheets.MAX_CELL_CHARACTERS


# The shared strings of an .xlsx are streamed too, read as openpyxl reads them.

SHARED_STRINGS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="6" uniqueCount="6">'
    "<si><t>Kommunenummer</t></si>"
    '<si><t xml:space="preserve">  Kåre Ødegård </t></si>'
    '<si><r><rPr><b/></rPr><t>Fet</t></r><r><t xml:space="preserve"> og vanlig</t></r></si>'
    '<si><t>東京</t><rPh sb="0" eb="2"><t>トウキョウ</t></rPh></si>'
    "<si><t>_x005F_x000D_ tekst</t></si>"
    "<si><t/></si>"
    "</sst>"
).encode()


def test_the_shared_strings_are_read_as_openpyxl_reads_them():
    archive = zipfile.ZipFile(io.BytesIO(with_part(xlsx_bytes(ROWS), "xl/sharedStrings.xml", SHARED_STRINGS)))
    streamed = sheets._shared_strings(archive, "xl/sharedStrings.xml")
    assert streamed == read_string_table(io.BytesIO(SHARED_STRINGS))
    assert streamed[:4] == ["Kommunenummer", "  Kåre Ødegård ", "Fet og vanlig", "東京"]


def test_an_xlsx_with_shared_strings_reads_to_the_same_rows():
    data = xlsx_bytes(ROWS + [["0301", "Oslo", datetime.date(2026, 11, 23), None]])
    assert cells(read_sheet(data, "a.xlsx"))[:2] == ROWS
