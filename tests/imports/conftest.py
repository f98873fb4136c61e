"""Builders for the messy sheets the import tests read: inline CSV text, xlsx and ods made on the fly."""

import io

import pytest

from imports.services import run_import


def xlsx_bytes(rows, *, title="Ark1", extra_sheets=()):
    """Return an .xlsx workbook whose first sheet holds `rows` (lists of cell values, None for empty)."""
    import openpyxl

    workbook = openpyxl.Workbook()
    for name, sheet_rows in [(title, rows), *extra_sheets]:
        sheet = workbook.active if name == title else workbook.create_sheet(name)
        sheet.title = name
        for row in sheet_rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def ods_bytes(rows):
    """Return an .ods spreadsheet holding `rows`; numbers become float cells, as LibreOffice stores them."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="Ark1")
    for row in rows:
        table_row = TableRow()
        for value in row:
            if value is None:
                table_row.addElement(TableCell())
            elif isinstance(value, (int, float)):
                cell = TableCell(valuetype="float", value=value)
                cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            else:
                cell = TableCell(valuetype="string")
                cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
        table.addElement(table_row)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return out.getvalue()


def csv_bytes(text, *, encoding="utf-8"):
    return text.encode(encoding)


@pytest.fixture
def import_sheet(db, today):
    """Run an import of `data` as `user` (None: national administrator) and return its report."""

    def run(data, *, name="kontakter.csv", user=None, dry_run=False, **options):
        return run_import(data=data, file_name=name, user=user, dry_run=dry_run, **options)

    return run
