"""Reading an uploaded spreadsheet (xlsx, ods or csv) into numbered rows, safely.

Every check that protects the server runs before a parser sees the file: the size, the format by
content (not by the file name), and for the zip-based formats the number of entries and the
declared unpacked size (zip bombs). XML is parsed through defusedxml: openpyxl uses it when it is
installed (a system check makes sure), odfpy always does. The file name is only ever shown, never
used as a path.
"""

import csv
import io
import logging
import zipfile
from dataclasses import dataclass, field

import openpyxl
import openpyxl.xml
from defusedxml import DefusedXmlException
from django.utils.translation import gettext as _

from imports.normalise import CellError, find_layout, is_blank, meaning_of_header

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_COLUMNS = 100
# A real workbook has a handful of parts; a zip with thousands is an attack or not a spreadsheet.
MAX_ZIP_ENTRIES = 500
# Unpacked size: spreadsheet XML compresses about 5 to 20 times; a zip bomb a thousand times or more.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100

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


def _zip_checked(data):
    """Return the ZipFile after checking its entry count and declared unpacked size, or raise SheetError."""
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


def _xlsx_sheets(data):
    if not openpyxl.xml.DEFUSEDXML:
        raise SheetError(
            _("The server cannot read .xlsx files safely right now. Use .csv, and tell the administrator.")
        )
    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for worksheet in workbook.worksheets:
            # The stored dimensions may claim 16,384 columns; read the cells that are really there.
            worksheet.reset_dimensions()
            yield worksheet.title, enumerate(worksheet.iter_rows(min_row=1, values_only=True), start=1)
    finally:
        workbook.close()


def _ods_cell_value(cell):
    from odf import teletype

    kind = cell.getAttribute("valuetype")
    if kind in ("float", "percentage", "currency"):
        return float(cell.getAttribute("value"))
    if kind == "date":
        return cell.getAttribute("datevalue")
    if kind == "boolean":
        return cell.getAttribute("booleanvalue")
    paragraphs = [teletype.extractText(p) for p in cell.childNodes if getattr(p, "qname", (None, ""))[1] == "p"]
    return "\n".join(paragraphs) if paragraphs else None


def _ods_rows(table):
    from odf.table import CoveredTableCell, TableCell, TableRow

    cell_names = {TableCell().qname, CoveredTableCell().qname}
    number = 0
    budget = MAX_ROWS + 31
    for row in table.getElementsByType(TableRow):
        repeat = int(row.getAttribute("numberrowsrepeated") or 1)
        cells = []
        for cell in row.childNodes:
            if cell.qname not in cell_names:
                continue
            # LibreOffice pads rows with thousands of repeated empty cells; nothing past MAX_COLUMNS is read.
            columns = min(int(cell.getAttribute("numbercolumnsrepeated") or 1), MAX_COLUMNS + 1)
            cells += [_ods_cell_value(cell)] * columns
            if len(cells) > 4 * MAX_COLUMNS:
                break
        if is_blank(cells):
            number += repeat
            continue
        for _copy in range(min(repeat, budget)):
            number += 1
            budget -= 1
            yield number, cells
        if budget <= 0:
            return


def _ods_sheets(data):
    from odf.opendocument import load
    from odf.table import Table

    document = load(io.BytesIO(data))
    for table in document.spreadsheet.getElementsByType(Table):
        yield table.getAttribute("name") or "", _ods_rows(table)


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
