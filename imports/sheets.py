"""Reading an uploaded spreadsheet (xlsx, ods or csv) into numbered rows, safely.

Every check that protects the server runs before a parser sees the file: the size, the format by
content (not by the file name), and for the zip-based formats the number of entries, the declared
unpacked size of the whole (zip bombs) and of each part (IMPORT_MAX_XML_PART_BYTES, from
REGISTRY_IMPORT_MAX_XML_PART_MB). zipfile never unpacks more than an entry declares, and the parts
read here are fed to the parser in chunks that stop at the same limit.

Memory stays bounded by streaming what is big: an .ods's content.xml is read by our own streaming
parser (`_ods_sheets`, not odfpy, which builds the whole document in memory: 1 GB for 25 MB of
XML), an .xlsx's worksheets by openpyxl's read-only mode, and its shared strings by our own
streaming reader (openpyxl's takes ten times as long). Our parsers use expat and refuse any
DOCTYPE, so no entity is ever declared or expanded; openpyxl parses the rest through defusedxml
(a system check makes sure it is installed). The file name is only ever shown, never used as a path.
"""

import csv
import io
import itertools
import logging
import zipfile
from dataclasses import dataclass, field
from xml.parsers import expat

import openpyxl
import openpyxl.xml
from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.xml.constants import SHARED_STRINGS

from imports.normalise import CellError, find_layout, is_blank, meaning_of_header

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 100
# A real workbook has a handful of parts; a zip with thousands is an attack or not a spreadsheet.
MAX_ZIP_ENTRIES = 500
# Unpacked size: spreadsheet XML compresses about 5 to 20 times; a zip bomb a thousand times or more.
# Each part on its own may unpack to at most settings.IMPORT_MAX_XML_PART_BYTES (20 MB by default).
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
# How much of a part is handed to a parser at a time.
CHUNK_BYTES = 64 * 1024
# A cell holds at most this many characters (Excel's own limit); more text in an .ods cell is cut off.
MAX_CELL_CHARACTERS = 32_767

XLSX, ODS, CSV = "xlsx", "ods", "csv"
FORMATS = (XLSX, ODS, CSV)
logger = logging.getLogger(__name__)

ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class SheetError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


def damaged():
    return SheetError(_("The file is damaged and cannot be opened. Save it again from Excel or LibreOffice."))


@dataclass
class Sheet:
    format: str
    rows: list = field(default_factory=list)  # [(row number as the user sees it, [cell, …])], blank rows left out
    sheet_name: str = ""


def display_name(file_name):
    """Return the uploaded file's name for showing and logging: no folders, no control characters."""
    name = str(file_name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[:200]


def extension_format(file_name):
    name = display_name(file_name).lower()
    for fmt in FORMATS:
        if name.endswith("." + fmt):
            return fmt
    return None


def _too_big(size):
    return SheetError(
        _("The file is %(size)s MB; the limit is %(limit)s MB. Split it into smaller files, or remove other sheets.")
        % {"size": round(size / 1024 / 1024, 1), "limit": MAX_FILE_BYTES // 1024 // 1024}
    )


def _part_too_big(name, size):
    limit = settings.IMPORT_MAX_XML_PART_BYTES
    return SheetError(
        _(
            "The part «%(part)s» of the file unpacks to %(size)s MB; each part may be at most %(limit)s MB, far "
            "more than a contact list needs. Copy just the list into a new .xlsx or .ods file (without empty "
            "formatted rows and columns, pictures or other sheets), or save it as .csv, and upload that."
        )
        % {
            "part": "".join(ch for ch in str(name) if ch.isprintable())[:80],
            "size": number_format(round(size / 1024 / 1024, 1), 1),
            "limit": number_format(round(limit / 1024 / 1024, 1), 1),
        }
    )


def _zip_checked(data):
    """Return the ZipFile after checking its entry count and declared unpacked sizes, or raise SheetError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        raise damaged() from None
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries)
    if (
        len(entries) > MAX_ZIP_ENTRIES
        or unpacked > MAX_UNPACKED_BYTES
        or unpacked > MAX_COMPRESSION_RATIO * max(packed, 1)
        or any(entry.flag_bits & 0x1 for entry in entries)
    ):
        # The sizes are the declared ones; zipfile refuses to unpack more than an entry declares.
        raise SheetError(
            _(
                "The file unpacks to far more than a contact list needs (or is encrypted), so it was not opened. "
                "Save the sheet again as a new .xlsx or .ods file, without pictures, other sheets or a password."
            )
        )
    for entry in entries:
        if entry.file_size > settings.IMPORT_MAX_XML_PART_BYTES:
            raise _part_too_big(entry.filename, entry.file_size)
    return archive


def detect_format(data, file_name):
    """Return "xlsx", "ods" or "csv" from the content, refusing files whose name promises another format."""
    claimed = extension_format(file_name)
    if claimed is None:
        raise SheetError(
            _("Only .xlsx, .ods and .csv files can be imported; «%(name)s» is none of them.")
            % {"name": display_name(file_name)}
        )
    if data.startswith(OLE_MAGIC):
        raise SheetError(_("The file is in the old Excel format (.xls). Open it in Excel and save it as .xlsx."))
    if data.startswith(b"PK\x03\x04"):
        archive = _zip_checked(data)
        names = set(archive.namelist())
        if "mimetype" in names and archive.read("mimetype").strip() == ODS_MIMETYPE:
            actual = ODS
        elif "[Content_Types].xml" in names and any(name.startswith("xl/") for name in names):
            actual = XLSX
        else:
            raise SheetError(
                _("The file is not a spreadsheet Excel or LibreOffice wrote. Save it as .xlsx, .ods or .csv.")
            )
    else:
        actual = CSV
    if actual != claimed:
        raise SheetError(
            _(
                "The file is named .%(claimed)s but is really a .%(actual)s file. "
                "Give it the right ending and try again."
            )
            % {"claimed": claimed, "actual": actual}
        )
    return actual


def read_sheet(data, file_name):
    """Return the Sheet in `data` (bytes) or raise SheetError saying what is wrong and what to do."""
    if len(data) > MAX_FILE_BYTES:
        raise _too_big(len(data))
    if not data.strip():
        raise SheetError(_("The file is empty."))
    fmt = detect_format(data, file_name)
    reader = {XLSX: _xlsx_sheets, ODS: _ods_sheets, CSV: _csv_sheets}[fmt]
    try:
        return _pick_sheet(fmt, reader(data))
    except SheetError:
        raise
    except Exception as error:
        # Parsers raise all kinds of errors on a damaged file; the user needs one clear message, not a 500.
        if _caused_by(error, DefusedXmlException):
            raise SheetError(
                _(
                    "The file contains XML that is not allowed (entity declarations). "
                    "Save it again from Excel or LibreOffice."
                )
            ) from None
        logger.info("Unreadable %s upload", fmt, exc_info=True)
        raise damaged() from None


def _caused_by(error, kind):
    """Return True when `error` or an error it wraps (openpyxl wraps parse errors) is a `kind`."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, kind):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _limited(rows):
    """Return the non-blank rows, refusing a sheet with more than MAX_ROWS rows of data."""
    out = []
    limit = MAX_ROWS + 30
    for number, cells in rows:
        cells = list(cells)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        if not cells or is_blank(cells):
            continue
        if len(cells) > MAX_COLUMNS:
            raise SheetError(
                _("Row %(row)s has more than %(max)s columns. Remove the columns that are not part of the list.")
                % {"row": number, "max": MAX_COLUMNS}
            )
        out.append((number, cells))
        if len(out) > limit:
            break
    return out


def _pick_sheet(fmt, sheets):
    """Return the first sheet (of a workbook) that has a header row."""
    first = None
    for name, rows in sheets:
        sheet = Sheet(format=fmt, rows=_limited(rows), sheet_name=name)
        first = first or sheet
        try:
            layout = find_layout(sheet.rows)
        except CellError:
            continue
        data_rows = [row for row in sheet.rows if row[0] > layout.header_row]
        if len(data_rows) > MAX_ROWS:
            raise SheetError(
                _("The sheet has more than %(max)s rows. Split it into smaller files.") % {"max": f"{MAX_ROWS:,}"}
            )
        return sheet
    return first or Sheet(format=fmt)


def _local(name):
    """The local part of an expat name "namespace local" (namespace_separator " ")."""
    return name.rpartition(" ")[2]


def _refuse_dtd(name, system_id, public_id, has_internal_subset):
    raise DTDForbidden(name, system_id, public_id)


def _refuse_entity(name, is_parameter_entity, value, base, system_id, public_id, notation_name):
    raise EntitiesForbidden(name, value, base, system_id, public_id, notation_name)


def _refuse_unparsed_entity(name, base, system_id, public_id, notation_name):
    raise EntitiesForbidden(name, None, base, system_id, public_id, notation_name)


def _refuse_external(context, base, system_id, public_id):
    raise ExternalReferenceForbidden(context, base, system_id, public_id)


def _expat_parser():
    """Return an expat parser that refuses any DOCTYPE, so no entity can be declared, expanded or fetched."""
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_unparsed_entity
    parser.ExternalEntityRefHandler = _refuse_external
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.buffer_text = True
    return parser


def _feed(parser, archive, name):
    """Feed the part `name` to `parser` chunk by chunk, yielding after each chunk so the caller can drain.

    Stops at IMPORT_MAX_XML_PART_BYTES whatever the zip declares: nothing past the limit is parsed.
    """
    limit = settings.IMPORT_MAX_XML_PART_BYTES
    fed = 0
    with archive.open(name) as stream:
        while chunk := stream.read(CHUNK_BYTES):
            fed += len(chunk)
            if fed > limit:
                raise _part_too_big(name, fed)
            parser.Parse(chunk, False)
            yield
    parser.Parse(b"", True)
    yield


def _shared_strings(archive, name):
    """Return the shared strings of an .xlsx as openpyxl's read_string_table does, streaming.

    A string is the text of its <t> and of the <t> of its rich-text runs (<r>), not of its phonetic
    guides (<rPh>); openpyxl also drops "x005F_", and so do we.
    """
    strings, text, path = [], [], []

    def start(tag, attributes):
        path.append(_local(tag))

    def end(tag):
        if path.pop() == "si":
            strings.append("".join(text).replace("x005F_", ""))
            text.clear()

    def data(characters):
        if len(path) >= 2 and path[-1] == "t" and path[-2] in ("si", "r"):
            text.append(characters)

    parser = _expat_parser()
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = start, end, data
    for _chunk in _feed(parser, archive, name):
        pass
    return strings


class _StreamingExcelReader(ExcelReader):
    """openpyxl's reader with our streaming shared-strings reader."""

    def read_strings(self):
        part = self.package.find(SHARED_STRINGS)
        if part is not None:
            self.shared_strings = _shared_strings(self.archive, part.PartName[1:])


def _load_workbook(data):
    """Open an .xlsx read-only (worksheets are streamed as they are read); returns the Workbook."""
    reader = _StreamingExcelReader(io.BytesIO(data), read_only=True, data_only=True)
    reader.read()
    return reader.wb


def _xlsx_sheets(data):
    if not openpyxl.xml.DEFUSEDXML:
        raise SheetError(
            _("The server cannot read .xlsx files safely right now. Use .csv, and tell the administrator.")
        )
    workbook = _load_workbook(data)
    try:
        for worksheet in workbook.worksheets:
            # The stored dimensions may claim 16,384 columns; read the cells that are really there.
            worksheet.reset_dimensions()
            yield worksheet.title, enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)
    finally:
        workbook.close()


OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE, _ROW = f"{TABLE} table", f"{TABLE} table-row"
_CELLS = {f"{TABLE} table-cell", f"{TABLE} covered-table-cell"}
_PARAGRAPH, _SPACE, _TAB, _LINE_BREAK = f"{TEXT} p", f"{TEXT} s", f"{TEXT} tab", f"{TEXT} line-break"


class _OdsReader:
    """Streams the tables of an .ods content.xml as (table number, table name, (row number, cells) or None).

    The cell semantics are those of the odfpy reading it replaces: a float, percentage or currency
    cell is its float value, a date its ISO text, a boolean its text ("true"), anything else the text
    of its paragraphs (<text:p> children) joined by line breaks, with <text:s> as spaces, <text:tab>
    and <text:line-break> as such, and None without paragraphs; covered cells count like others;
    repeated cells and rows are repeated (cells up to MAX_COLUMNS + 1 times, and no more than
    4 × MAX_COLUMNS cells per row), blank rows are left out but counted, and at most MAX_ROWS + 31
    rows of data per table are given. Rows may sit in row groups and header rows; tables inside
    cells are ignored. A cell's text stops at MAX_CELL_CHARACTERS.
    """

    def __init__(self):
        self.out = []
        self.depth = 0
        self.tables = 0
        self.name = ""
        self.table_depth = None  # depth of the current (top-level) table
        self.row = None  # cells of the current row
        self.row_repeat = 1
        self.number = 0
        self.budget = 0
        self.cell_depth = None  # depth of the current cell
        self.value = None
        self.repeat = 1
        self.paragraphs = None  # the current text cell's paragraphs, each a list of strings; None: not text
        self.cell_characters = 0
        self.paragraph_depth = None
        # Spaces from <text:s text:c="…"> are the only text that is not in the file itself: bounded.
        self.spaces_left = settings.IMPORT_MAX_XML_PART_BYTES

    def start(self, tag, attributes):
        self.depth += 1
        if self.paragraph_depth is not None:
            if tag == _SPACE:
                count = min(int(attributes.get(f"{TEXT} c") or 1), MAX_CELL_CHARACTERS)
                self.spaces_left -= count
                if self.spaces_left < 0:
                    raise SheetError(_("The file holds far more text than a contact list needs. Save it as .csv."))
                self.data(" " * count)
            elif tag == _TAB:
                self.data("\t")
            elif tag == _LINE_BREAK:
                self.data("\n")
        elif tag == _TABLE:
            if self.table_depth is None:
                self.table_depth = self.depth
                self.tables += 1
                self.name = attributes.get(f"{TABLE} name") or ""
                self.number, self.budget = 0, MAX_ROWS + 31
                self.out.append((self.tables, self.name, None))
        elif tag == _ROW:
            if self.table_depth is not None and self.row is None:
                self.row = []
                self.row_repeat = max(1, int(attributes.get(f"{TABLE} number-rows-repeated") or 1))
        elif tag in _CELLS:
            if self.row is not None and self.cell_depth is None:
                self._start_cell(attributes)
        elif tag == _PARAGRAPH and self.paragraphs is not None and self.depth == self.cell_depth + 1:
            self.paragraph_depth = self.depth
            if self.paragraphs:
                self.data("\n")
            self.paragraphs.append([])

    def _start_cell(self, attributes):
        self.cell_depth = self.depth
        self.value, self.paragraphs, self.cell_characters = None, None, 0
        if len(self.row) > 4 * MAX_COLUMNS:
            self.repeat = 0  # past the columns anyone reads
            return
        columns = int(attributes.get(f"{TABLE} number-columns-repeated") or 1)
        self.repeat = max(0, min(columns, MAX_COLUMNS + 1))
        kind = attributes.get(f"{OFFICE} value-type")
        if kind in ("float", "percentage", "currency"):
            self.value = float(attributes.get(f"{OFFICE} value"))
        elif kind == "date":
            self.value = attributes.get(f"{OFFICE} date-value")
        elif kind == "boolean":
            self.value = attributes.get(f"{OFFICE} boolean-value")
        else:
            self.paragraphs = []

    def data(self, characters):
        if self.paragraph_depth is None:
            return
        room = MAX_CELL_CHARACTERS - self.cell_characters
        if room > 0:
            self.paragraphs[-1].append(characters[:room])
            self.cell_characters += min(len(characters), room)

    def end(self, tag):
        if self.depth == self.paragraph_depth:
            self.paragraph_depth = None
        elif self.depth == self.cell_depth:
            if self.paragraphs is not None:
                # The line breaks between paragraphs are in the paragraphs already (see start).
                self.value = "".join("".join(parts) for parts in self.paragraphs) if self.paragraphs else None
            self.row += [self.value] * self.repeat
            self.cell_depth = self.paragraphs = None
        elif tag == _ROW and self.row is not None and self.cell_depth is None:
            self._end_row()
        elif self.depth == self.table_depth:
            self.table_depth = None
        self.depth -= 1

    def _end_row(self):
        cells, repeat = self.row, self.row_repeat
        self.row = None
        if is_blank(cells):
            self.number += repeat
            return
        for _copy in range(min(repeat, max(self.budget, 0))):
            self.number += 1
            self.budget -= 1
            self.out.append((self.tables, self.name, (self.number, cells)))

    def events(self, archive):
        parser = _expat_parser()
        parser.StartElementHandler, parser.EndElementHandler = self.start, self.end
        parser.CharacterDataHandler = self.data
        for _chunk in _feed(parser, archive, "content.xml"):
            yield from self.out
            self.out.clear()


def _ods_sheets(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    events = _OdsReader().events(archive)
    for (_table, name), items in itertools.groupby(events, key=lambda event: event[:2]):
        yield name, (row for _table, _name, row in items if row is not None)


def decode_text(data):
    """Return the text of a CSV file: UTF-8 (with or without BOM) or Windows-1252 ("Lagre som CSV" in Excel)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SheetError(_("The file is saved as UTF-16 text. Save it as «CSV UTF-8» or as .xlsx."))
    if b"\x00" in data:
        raise SheetError(_("The file is not a text file, so it is not a CSV file. Save it as .csv or .xlsx."))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise SheetError(
            _("The file's characters cannot be read as UTF-8 or Windows-1252. Save it as «CSV UTF-8» and try again.")
        ) from None


def _header_score(rows):
    best = 0
    for cells in rows[:30]:
        best = max(best, sum(1 for cell in cells if meaning_of_header(cell) is not None))
    return best


def _csv_sheets(data):
    text = decode_text(data)
    sample_lines = [line for line in text.splitlines()[:200] if line.strip()][:40]
    best = None
    for delimiter in (";", ",", "\t"):
        try:
            rows = list(csv.reader(sample_lines, delimiter=delimiter))
        except csv.Error:
            continue
        score = (_header_score(rows), max((len(r) for r in rows), default=0))
        if best is None or score > best[0]:
            best = (score, delimiter)
    delimiter = best[1] if best else ","
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise SheetError(
            _("The CSV file is malformed (a quote is not closed, or a cell is far too long). Save it again as CSV.")
        ) from None
    yield "", enumerate(records, start=1)
