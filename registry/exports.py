"""The national list as a spreadsheet: CSV and XLSX, one row per contact, vacancies included.

Cells go through `registry.spreadsheets`, so no value is ever run as a formula. Phone cells use the
national format and " / " between numbers, with a note in brackets, as the offices' own sheets do
(and as the importer reads them back).
"""

import csv
import io

from django.http import HttpResponse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from registry.models import Role
from registry.phones import format_phone
from registry.spreadsheets import neutralise, write_text_row

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def header():
    return [
        _("Municipality number"),
        _("Municipality"),
        _("Parallel names"),
        _("County"),
        _("County governor office"),
        _("Role"),
        _("Name"),
        _("E-mail"),
        _("Phone"),
        _("Through (intermunicipal arrangement)"),
        _("From"),
        _("To"),
        _("Last confirmed"),
        _("Note"),
        _("Role mailbox"),
        _("24/7 emergency number"),
        _("Switchboard"),
        _("Out-of-hours clinic (legevakt)"),
    ]


def phone_cell(phones):
    """Return the numbers as people write them in a sheet: "400 00 101 / 73 00 01 00 (daytime only)"."""
    return " / ".join(format_phone(phone.number) + (f" ({phone.note})" if phone.note else "") for phone in phones)


def function_cell(contacts):
    """Function contacts as one cell: addresses or numbers, a role or opening hours in brackets."""
    parts = []
    for contact in contacts:
        value = contact.email or format_phone(contact.number)
        extra = ", ".join(filter(None, [contact.get_role_display() if contact.role else "", contact.opening_hours]))
        parts.append(f"{value} ({extra})" if extra else value)
    return " / ".join(parts)


def legevakt_cell(legevakter):
    return " / ".join(f"{legevakt.name}: {format_phone(legevakt.number)}" for legevakt in legevakter)


def local_date(moment):
    return timezone.localtime(moment).date().isoformat() if moment else ""


def rows(entries):
    """Yield the header, then one row per contact; a municipality without a chief physician gets a row saying so."""
    yield header()
    for entry in entries:
        municipality = entry.municipality
        common = [
            municipality.number,
            municipality.name,
            ", ".join(municipality.parallel_name_list),
            entry.county.name,
            entry.county_governor.name,
        ]
        function = [
            function_cell(entry.role_mailboxes),
            function_cell(entry.emergency_numbers),
            function_cell(entry.switchboards),
            legevakt_cell(entry.legevakter),
        ]
        if not entry.has_chief_physician:
            yield [
                *common,
                capfirst(Role.CHIEF_PHYSICIAN.label),
                "",
                "",
                "",
                "",
                "",
                "",
                local_date(entry.confirmed_at),
                _("No chief physician registered"),
                *function,
            ]
        for contact in entry.contacts:
            yield [
                *common,
                capfirst(contact.role_label),
                contact.name,
                contact.email,
                phone_cell(contact.phones),
                str(contact.through) if contact.through else "",
                contact.valid_from.isoformat(),
                contact.valid_to.isoformat() if contact.valid_to else "",
                local_date(contact.verified_at),
                contact.appointment.note,
                *function,
            ]


def filename(extension):
    return f"kommuneoverleger-{timezone.localdate().isoformat()}.{extension}"


def attachment(content, content_type, extension):
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename(extension)}"'
    return response


def csv_response(entries):
    """A CSV file that Excel in Norwegian opens by double-click: UTF-8 with BOM, semicolon-separated."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for row in rows(entries):
        writer.writerow([neutralise(value) for value in row])
    return attachment(buffer.getvalue().encode("utf-8"), CSV_CONTENT_TYPE, "csv")


def xlsx_response(entries):
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Chief physicians")[:31]
    for row in rows(entries):
        write_text_row(sheet, row)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    widths = [10, 18, 18, 16, 28, 24, 26, 30, 30, 40, 11, 11, 12, 30, 34, 22, 22, 34]
    for column, width in zip("ABCDEFGHIJKLMNOPQR", widths, strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return attachment(buffer.getvalue(), XLSX_CONTENT_TYPE, "xlsx")
